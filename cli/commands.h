/* commands.h - the gpuledger subcommands.
 *
 * Adding a subcommand (git's recipe):
 *   1. write `int cmd_NAME(int argc, char **argv)` in cli/cmd_NAME.c;
 *      argv[0] is the subcommand name itself;
 *   2. declare it here;
 *   3. add one line to the table in cli/main.c.
 * Commands print data to stdout, diagnostics to stderr, and return the
 * process exit status (0 ok, 1 checked-and-failed, 2 bad input/usage).
 * Options are parsed with getopt_long (cli/cli.h); `--help` prints to
 * stdout, exits 0 and shows "Example" lines and an "Exit status:" line
 * (tests/integration/test_cli_help.c runs it for every command of the
 * table), and the command gets a section in docs/gpuledger.1 (the same
 * test fails when the man page does not name it).
 */
#ifndef GPULEDGER_CLI_COMMANDS_H
#define GPULEDGER_CLI_COMMANDS_H

int cmd_tx(int argc, char **argv);
int cmd_verify(int argc, char **argv);
int cmd_keccak(int argc, char **argv);
int cmd_abi(int argc, char **argv);
int cmd_export(int argc, char **argv);
int cmd_db(int argc, char **argv);
int cmd_platforms(int argc, char **argv);
int cmd_expand(int argc, char **argv);
int cmd_index(int argc, char **argv);
int cmd_follow(int argc, char **argv);
int cmd_simulate(int argc, char **argv);
int cmd_analyze(int argc, char **argv);
int cmd_entities(int argc, char **argv);
int cmd_flags(int argc, char **argv);
int cmd_explain(int argc, char **argv);
int cmd_eval(int argc, char **argv);
int cmd_labels(int argc, char **argv);
int cmd_import(int argc, char **argv);
int cmd_wallet(int argc, char **argv);
int cmd_trace(int argc, char **argv);
int cmd_path(int argc, char **argv);
int cmd_report(int argc, char **argv);
int cmd_volume(int argc, char **argv);
int cmd_exposure(int argc, char **argv);
int cmd_providers(int argc, char **argv);
int cmd_concentration(int argc, char **argv);
int cmd_config(int argc, char **argv);

#endif
