/*
 * The appliance's key files in key_dir: one key per file, as one line of
 * lower-case hex.  Secret keys are files only their owner can read;
 * keys are created once and never overwritten.
 *
 *   state.key       32 bytes: polrecd's local key for its live state
 *                   (keyed hashes of participant ids, stable across
 *                   restarts)
 *   signing.key     Ed25519 secret key (64 bytes): signs checkpoints
 *   signing.pub     its public key (32)
 *   auditor.pub     the auditor's X25519 public key (32): the sealed
 *                   metadata is readable only with its secret key
 *   auditor.key     that secret key, written by `polrecctl keys init`
 *                   for the operator to move off the host; polrecd
 *                   never reads it
 */
#ifndef POLREC_KEYFILE_H
#define POLREC_KEYFILE_H

#include <stddef.h>

#define KEYFILE_STATE		"state.key"
#define KEYFILE_SIGNING		"signing.key"
#define KEYFILE_SIGNING_PUB	"signing.pub"
#define KEYFILE_AUDITOR_PUB	"auditor.pub"
#define KEYFILE_AUDITOR_SECRET	"auditor.key"

#define KEYFILE_SECRET	1	/* refuse a file others can read */

/*
 * Read exactly `len` bytes of key from `dir`/`name` (dir NULL: name is
 * the path).  With KEYFILE_SECRET, a file readable or writable by group
 * or others is refused.  0, or -1 with a message in err.
 */
int	 keyfile_read(const char *dir, const char *name, unsigned char *key,
	    size_t len, int flags, char *err, size_t errlen);

/*
 * Write `len` bytes of key to `dir`/`name` (dir NULL: name is the path)
 * with `mode`, refusing to overwrite an existing file; synced before
 * returning.  0, or -1 with a message in err.
 */
int	 keyfile_write(const char *dir, const char *name,
	    const unsigned char *key, size_t len, unsigned int mode,
	    char *err, size_t errlen);

/* Whether dir/name exists (any type). */
int	 keyfile_exists(const char *dir, const char *name);

#endif
