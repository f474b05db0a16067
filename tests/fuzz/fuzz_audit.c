/* libFuzzer harness for the audit record format (lib/audit.c): its parsers. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "audit.h"

/*
 * The same bytes are taken as an exported checkpoint, as a sealed
 * payload (opened with a fixed data key, for the seq and key id its own
 * header names) and as a sealed data key (opened with a fixed auditor
 * key pair).  Whatever is accepted must hold together: a checkpoint
 * exports and parses back the same, a payload opens to exactly its
 * length less the overhead, a data key opens the same way twice.  The
 * seeds in tests/fuzz/corpus/audit were made with these keys.
 */

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static const unsigned char dk[AUDIT_DATAKEYBYTES] =
    "polrec fuzz data key, 32 bytes!";
static const unsigned char auditor_seed[crypto_box_SEEDBYTES] =
    "polrec fuzz auditor seed, 32 b.";
static unsigned char	 auditor_pk[AUDIT_BOX_PUBBYTES];
static unsigned char	 auditor_sk[AUDIT_BOX_SECRETBYTES];

static void	 run_checkpoint(const uint8_t *, size_t);
static void	 run_sealed(const uint8_t *, size_t);
static void	 run_datakey(const uint8_t *, size_t);

static void
run_checkpoint(const uint8_t *data, size_t size)
{
	struct audit_checkpoint	 cp, back;
	unsigned char		 pk[AUDIT_SIGN_PUBBYTES];
	unsigned char		 pk2[AUDIT_SIGN_PUBBYTES];
	char			 err[128], *json;

	if (audit_checkpoint_from_json((const char *)data, size, &cp, pk, err,
	    sizeof(err)) == -1) {
		if (err[0] == '\0' || memchr(err, '\0', sizeof(err)) == NULL)
			abort();
		return;
	}
	if (cp.seq < 0 || cp.utc_us < 0 || strlen(cp.key_id) !=
	    AUDIT_KEYID_LEN)
		abort();
	/* Any outcome; the point is that it does not crash. */
	(void)audit_checkpoint_verify(&cp, pk);
	if ((json = audit_checkpoint_to_json(&cp, pk)) == NULL)
		abort();
	if (audit_checkpoint_from_json(json, strlen(json), &back, pk2, err,
	    sizeof(err)) == -1 || back.seq != cp.seq ||
	    back.utc_us != cp.utc_us ||
	    memcmp(back.head, cp.head, sizeof(cp.head)) != 0 ||
	    memcmp(back.sig, cp.sig, sizeof(cp.sig)) != 0 ||
	    strcmp(back.key_id, cp.key_id) != 0 ||
	    memcmp(pk, pk2, sizeof(pk)) != 0)
		abort();
	free(json);
}

static void
run_sealed(const uint8_t *data, size_t size)
{
	char	 id[AUDIT_KEYID_LEN + 1], *plain;
	size_t	 plainlen;
	int64_t	 seq;

	if (audit_sealed_header(data, size, &seq, id) == -1) {
		/* What has no header never opens. */
		if (audit_unseal(dk, "0123456789abcdef", 1, data, size, &plain,
		    &plainlen) != -1 || plain != NULL)
			abort();
		return;
	}
	if (size < AUDIT_SEAL_OVERHEAD || strlen(id) != AUDIT_KEYID_LEN)
		abort();
	if (audit_unseal(dk, id, seq, data, size, &plain, &plainlen) == 0) {
		if (plainlen != size - AUDIT_SEAL_OVERHEAD ||
		    plain[plainlen] != '\0')
			abort();
		free(plain);
		/* Not for another row. */
		if (audit_unseal(dk, id, seq ^ 1, data, size, &plain,
		    &plainlen) != -1)
			abort();
	} else if (plain != NULL || plainlen != 0)
		abort();
}

static void
run_datakey(const uint8_t *data, size_t size)
{
	unsigned char	 k1[AUDIT_DATAKEYBYTES], k2[AUDIT_DATAKEYBYTES];
	int		 r1, r2;

	r1 = audit_datakey_open(data, size, auditor_pk, auditor_sk, k1);
	r2 = audit_datakey_open(data, size, auditor_pk, auditor_sk, k2);
	if (r1 != r2 || (r1 == 0 && memcmp(k1, k2, sizeof(k1)) != 0) ||
	    (r1 == 0 && size != AUDIT_SEALED_DATAKEY_BYTES))
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int	 ready;

	if (!ready) {
		if (sodium_init() < 0 || crypto_box_seed_keypair(auditor_pk,
		    auditor_sk, auditor_seed) != 0)
			abort();
		ready = 1;
	}
	run_checkpoint(data, size);
	run_sealed(data, size);
	run_datakey(data, size);
	return 0;
}
