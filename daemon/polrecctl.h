/*
 * polrecctl's offline commands: the appliance's keys and the audit trail,
 * worked on directly in key_dir and the database, without polrecd.
 */
#ifndef POLRECCTL_H
#define POLRECCTL_H

#define CTL_EXIT_OK	0
#define CTL_EXIT_FAIL	1
#define CTL_EXIT_USAGE	2
#define CTL_EXIT_UNREACHABLE	3	/* polrecd not reachable */
/* audit verify: intact, but the newest events are not yet covered by a
 * checkpoint (3 is "polrecd not reachable"). */
#define VERIFY_EXIT_TAIL	4

/*
 * An error of the command: on stderr ("polrecctl: " first), or with -j
 * kept for the one JSON error main prints on stdout at the end.  A
 * trailing newline is dropped; embedded "\npolrecctl: " joins lines.
 */
/* -n: parse the command and its options only; open nothing. */
extern int	 ctl_dry_run;

void	 ctl_warnx(const char *fmt, ...)
	    __attribute__((__format__ (printf, 1, 2)));

/*
 * argv[0] is the command family ("keys", "audit"), then its command and
 * options; conffile is polrecctl's -f.  Return the exit status.
 */
int	 polrecctl_keys(int argc, char *argv[], const char *conffile);
int	 polrecctl_audit(int argc, char *argv[], const char *conffile);

/* audit new-trail: the authorisation polrecd needs to start a new trail
 * on a missing or empty database while the appliance's keys exist. */
int	 polrecctl_new_trail(int argc, char *argv[], const char *conffile);

/* After keys init made the keys of -f's key_dir: the first trail is
 * authorised with them, when no trail is there yet. */
void	 polrecctl_first_trail(const char *conffile, const char *key_dir);

/*
 * The [audit] directive a command needs and was not given: "database"
 * or "key_dir" from the configuration file, malloc'd.  NULL with a
 * message on stderr when the file cannot be loaded.
 */
char	*polrecctl_conf_audit(const char *conffile, const char *directive);

/* The sub-command among names[] that word is an unambiguous prefix of,
 * or -1 with the valid ones listed on stderr. */
int	 polrecctl_subcommand(const char *family, const char *word,
	    const char *const names[], int n);

#endif
