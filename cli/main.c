/* main.c - the gpuledger command table and dispatch.
 *
 * See cli/commands.h for how to add a subcommand.
 */
#include <stdio.h>
#include <string.h>

#include "commands.h"

struct command {
    const char *name;
    int (*fn)(int argc, char **argv);
    const char *summary;
};

static const struct command commands[] = {
    {"tx", cmd_tx, "decode a signed transaction: tx decode HEX|@FILE|-"},
    {"verify", cmd_verify, "recompute and check what a block claims: verify block FILE|-"},
    {"keccak", cmd_keccak, "keccak-256 of hex bytes (0x...) or text: keccak DATA|-"},
    {"abi", cmd_abi, "ABI helpers: abi topic SIG | abi decode ..."},
    {"export", cmd_export, "stored events or transfers as CSV/JSONL: export events|transfers --db DIR"},
    {"import", cmd_import, "ethereum-etl CSV exports into a store, unverified: import --db DIR --format ethereum-etl FILE..."},
    {"db", cmd_db, "a store: db stats|check|recover --db DIR"},
    {"platforms", cmd_platforms, "built-in platform definitions: platforms [show NAME|FILE] [--json]"},
    {"expand", cmd_expand, "funding trail of the stored wallets: expand --db DIR --rpc URL --depth K"},
    {"index", cmd_index, "index a platform's events into a store: index --platform P --rpc URL --db DIR"},
    {"follow", cmd_follow, "index, then follow the head through reorgs: follow --platform P --rpc URL --db DIR"},
    {"analyze", cmd_analyze, "entities and proxy flags into the store: analyze --db DIR"},
    {"entities", cmd_entities, "the analysis' entities with their links: entities --db DIR [--format json|jsonl|csv]"},
    {"flags", cmd_flags, "probable proxy buyers with evidence: flags --db DIR [--min-score X] [--format ...]"},
    {"explain", cmd_explain, "why an address is in its entity and why it is (not) flagged: explain ADDR --db DIR"},
    {"wallet", cmd_wallet, "what the store knows of one wallet: wallet ADDR --db DIR [--json]"},
    {"trace", cmd_trace, "the fund-flow graph around a wallet: trace ADDR --db DIR --direction in|out|both --hops K"},
    {"path", cmd_path, "fund-flow paths between two wallets: path A B --db DIR [--max-hops K]"},
    {"eval", cmd_eval, "score the analysis against a simulator truth: eval --db DIR --truth FILE [--json]"},
    {"volume", cmd_volume, "purchase volume gross/net by platform, period, model: volume --db DIR [--by ...] [--prices F]"},
    {"exposure", cmd_exposure, "GPU-hours and spend on export-controlled GPUs by entity: exposure --db DIR"},
    {"providers", cmd_providers, "providers' listed capacity, prices and sweeps against the chain: providers --db DIR"},
    {"concentration", cmd_concentration, "concurrent GPUs per entity over time (CSV): concentration --db DIR [--class H100]"},
    {"simulate", cmd_simulate, "play a scenario on a node, write the truth: simulate --rpc URL --scenario F --seed N --truth OUT"},
    {"report", cmd_report, "one static HTML page of figures, flags, fund flows, findings: report --db DIR --out DIR"},
    {"labels", cmd_labels, "address labels (CSV, TagPack, OFAC SDN): labels import FILE... --db DIR | labels list --db DIR"},
    {"config", cmd_config, "the configuration file, URLs redacted: config show [--chain ID] [--json] | config path"},
};

#define N_COMMANDS (sizeof commands / sizeof commands[0])

static void usage(FILE *out)
{
    fprintf(out, "usage: gpuledger <command> [options] [args]\n\ncommands:\n");
    for (size_t i = 0; i < N_COMMANDS; i++)
        fprintf(out, "  %-13s %s\n", commands[i].name, commands[i].summary);
    fprintf(out, "\n'gpuledger help COMMAND' or 'gpuledger COMMAND --help' shows a command's options and\n"
                 "examples; man gpuledger (docs/gpuledger.1) documents them all, with the config file\n"
                 "and the environment (ETH_RPC_URL, GPULEDGER_CONFIG, XDG_CONFIG_HOME, NO_COLOR).\n\n"
                 "Example:\n"
                 "  gpuledger index --platform livepeer-arbitrum --rpc \"$URL\" --db store/\n\n"
                 "Exit status: 0 ok, 1 a check or a run failed, 2 bad usage or input (each command's\n"
                 "--help says which apply).\n");
}

static const struct command *find(const char *name)
{
    for (size_t i = 0; i < N_COMMANDS; i++)
        if (!strcmp(name, commands[i].name))
            return &commands[i];
    return NULL;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help") || !strcmp(argv[1], "help")) {
        if (argc == 2 || strcmp(argv[1], "help")) {
            usage(stdout);
            return 0;
        }
        /* help CMD: CMD's own --help */
        const struct command *c = find(argv[2]);
        if (!c || argc > 3) {
            fprintf(stderr, "gpuledger help: '%s' is not a command\n", c ? argv[3] : argv[2]);
            usage(stderr);
            return 2;
        }
        char *hargv[] = {(char *)c->name, "--help", NULL};
        return c->fn(2, hargv);
    }
    const struct command *c = find(argv[1]);
    if (c)
        return c->fn(argc - 1, argv + 1);
    fprintf(stderr, "gpuledger: '%s' is not a command\n", argv[1]);
    usage(stderr);
    return 2;
}
