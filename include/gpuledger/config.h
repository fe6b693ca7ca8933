/* config.h - the user's configuration file: JSON-RPC endpoints per chain.
 *
 * Location (the first that applies):
 *   $GPULEDGER_CONFIG                          (the file must then exist)
 *   $XDG_CONFIG_HOME/gpuledger/config.json     (when XDG_CONFIG_HOME is set
 *                                               to an absolute path)
 *   $HOME/.config/gpuledger/config.json
 * A file at one of the last two that does not exist is an empty config.
 *
 * Format (docs/gpuledger.1, FILES):
 *   {"rpc": {"1": ["https://mainnet.example/v3/KEY", "https://eth.example"],
 *            "42161": ["https://arb1.example/rpc"]}}
 * "rpc" maps a decimal chain id to an array of http:// or https:// URLs (a
 * single string is taken as an array of one); the URLs are tried in order by
 * the endpoint pool, as with --rpc URL,URL.  Unknown keys are errors (a typo
 * must not silently drop endpoints).  Errors name the file and the JSON path
 * ("config.json: rpc.42161[1]: ...") and show URLs redacted.
 *
 * Precedence for a command that needs the endpoints of chain C (the chain of
 * the platform being indexed, or the store's chain for expand):
 *   --rpc  >  $ETH_RPC_URL  >  the file's rpc."C"
 * The first that gives at least one URL wins; nothing is merged.
 *
 * Secrets: URLs carry API keys.  This module never prints; every message it
 * makes shows URLs through gl_rpc_redact_url, and so must its callers.
 */
#ifndef GPULEDGER_CONFIG_H
#define GPULEDGER_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "gpuledger/err.h"

#define GL_CONFIG_PATH_MAX 4096

/* The environment the location depends on; NULL or "" means unset. */
typedef struct gl_config_env {
    const char *gpuledger_config; /* $GPULEDGER_CONFIG */
    const char *xdg_config_home;  /* $XDG_CONFIG_HOME */
    const char *home;             /* $HOME */
    const char *eth_rpc_url;      /* $ETH_RPC_URL (for gl_config_endpoints' callers) */
} gl_config_env;

/* Fill `env` from the process environment.  Cannot fail. */
void gl_config_env_from_process(gl_config_env *env);

/* Where the file is for `env`: written into path (GL_CONFIG_PATH_MAX bytes);
 * *why (may be NULL) names the rule used: "GPULEDGER_CONFIG",
 * "XDG_CONFIG_HOME" or "HOME".  GL_EINVAL when none applies (no HOME) or the
 * path is too long. */
gl_code gl_config_locate(const gl_config_env *env, char path[GL_CONFIG_PATH_MAX] /* OUT */,
                         const char **why /* OUT */, gl_err *err);

typedef struct gl_config_chain {
    uint64_t chain_id;
    char **urls; /* n_urls heap strings, in the file's order */
    size_t n_urls;
} gl_config_chain;

/* A loaded file.  Caller-owned: gl_config_init before use, gl_config_release
 * after.  chains are sorted by chain id. */
typedef struct gl_config {
    char path[GL_CONFIG_PATH_MAX]; /* "" when none was located */
    const char *why;               /* rule that chose path (static string) */
    bool found;                    /* the file exists and was read */
    gl_config_chain *chains;
    size_t n_chains;
} gl_config;

void gl_config_init(gl_config *cfg);
void gl_config_release(gl_config *cfg);

/* Parse `text` as a config file called `origin` (for messages) into cfg
 * (which must be freshly initialised).  GL_EINVAL with "ORIGIN: line L,
 * column C: ..." for bad JSON and "ORIGIN: PATH: ..." for a bad value;
 * GL_ENOMEM.  On failure cfg holds no chains. */
gl_code gl_config_parse(gl_config *cfg, const char *text, const char *origin, gl_err *err);

/* Locate (gl_config_locate) and read the file into cfg (freshly
 * initialised).  A missing file is an empty config (found false), except
 * when GPULEDGER_CONFIG names it: GL_EIO then.  GL_EIO for a file that
 * exists but cannot be read; gl_config_parse's errors; GL_EINVAL when no
 * location applies is NOT an error (empty config, path ""). */
gl_code gl_config_load(gl_config *cfg, const gl_config_env *env, gl_err *err);

/* The chain's entry, or NULL. */
const gl_config_chain *gl_config_chain_get(const gl_config *cfg, uint64_t chain_id);

typedef enum gl_rpc_source {
    GL_RPC_SRC_NONE = 0,
    GL_RPC_SRC_OPTION, /* --rpc */
    GL_RPC_SRC_ENV,    /* $ETH_RPC_URL */
    GL_RPC_SRC_CONFIG, /* the config file */
} gl_rpc_source;

/* "--rpc", "ETH_RPC_URL", "config file", "none". */
const char *gl_rpc_source_name(gl_rpc_source src);

/* Resolved endpoints: heap copies, caller-owned (gl_config_urls_release). */
typedef struct gl_config_urls {
    char **urls;
    size_t n;
    gl_rpc_source src;
} gl_config_urls;

void gl_config_urls_release(gl_config_urls *u);

/* Split "a,b,c" (empty items skipped) and append the items to u.  GL_ENOMEM. */
gl_code gl_config_urls_add_list(gl_config_urls *u, const char *list, gl_err *err);

/* The endpoints for chain_id by the precedence above: opt_urls (n_opt
 * items, each possibly a comma list; from --rpc), else env_rpc (a comma
 * list; from $ETH_RPC_URL), else cfg's rpc.CHAIN (cfg may be NULL).  `out`
 * is filled (zeroed first).  When none gives a URL: GL_EINVAL, "no JSON-RPC
 * endpoint for chain C: give --rpc URL, set ETH_RPC_URL, or list it under
 * rpc."C" in PATH"; GL_ENOMEM.  out is empty on failure. */
gl_code gl_config_endpoints(const gl_config *cfg, uint64_t chain_id, const char *const *opt_urls, size_t n_opt,
                            const char *env_rpc, gl_config_urls *out /* OUT */, gl_err *err);

#endif
