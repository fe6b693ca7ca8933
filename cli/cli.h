/* cli.h - helpers the subcommands share: option errors in one wording, and
 * the JSON-RPC endpoints of a chain by the documented precedence.
 *
 * Options: every subcommand parses with getopt_long, after cli_opt_reset()
 * (optind 0, opterr 0: getopt stays quiet) and with an optstring that
 * starts with ':' (a missing value is reported as ':', not '?'); whatever
 * getopt_long rejects goes to cli_opt_error.  Each subcommand's --help
 * prints to stdout and exits 0, and ends with "Example" lines and an
 * "Exit status:" line (tests/integration/test_cli_help.c checks it).
 */
#ifndef GPULEDGER_CLI_CLI_H
#define GPULEDGER_CLI_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "gpuledger/config.h"

/* Start a fresh getopt_long parse of an argv whose argv[0] is the
 * subcommand (optind = 0, which also resets GNU getopt's state; opterr = 0). */
void cli_opt_reset(void);

/* Print getopt_long's complaint on stderr as "gpuledger CMD: unknown option
 * '--x'" / "'--db' needs a value" / "'--json' takes no value", then
 * "(see gpuledger CMD --help)".  c is what getopt_long returned ('?' or
 * ':'), argv the array it parsed.  Returns 2, the usage exit status. */
int cli_opt_error(const char *cmd, int c, char **argv);

/* The endpoints for `chain_id`: --rpc values (n_opt of them, each possibly
 * a comma list) > $ETH_RPC_URL > the config file (config.h).  Errors
 * (a malformed config file, no endpoint at all) are printed as "gpuledger
 * CMD: ..." and return 2; 0 with `out` filled otherwise.  Unless quiet, one
 * line says where the endpoints came from, URLs redacted. */
int cli_endpoints(const char *cmd, uint64_t chain_id, const char *const *opt, size_t n_opt, bool quiet,
                  gl_config_urls *out);

#endif
