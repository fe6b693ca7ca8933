/* anvil.c - run anvil for tests (see anvil.h). */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "gpuledger/rpc.h"

#include "anvil.h"
#include "testutil.h"

#define ANVIL_PKG_BIN "tools/node_modules/@foundry-rs/anvil-linux-amd64/bin/anvil"
#define ANVIL_STOP_GRACE_MS 5000
#define ANVIL_POLL_MS 50
#define ANVIL_MAX_EXTRA 32
#define LOG_TAIL 400

struct gl_anvil {
    pid_t pid;
    int log_fd;
    uint16_t port;
    uint64_t chain_id;
    char url[64];
    char log_path[256];
};

static const char *const dev_keys[GL_ANVIL_DEV_ACCOUNTS] = {
    "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80",
    "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d",
    "0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a",
    "0x7c852118294e51e653712a81e05800f419141751be58f605c371e15141b007a6",
    "0x47e179ec197488593b187f80a00eb0da91f1b9d0b13f8733639f19c30a34926a",
    "0x8b3a350cf5c34c9194ca85829a2df0ec3153be0318b5e2d3348e872092edffba",
    "0x92db14e403b83dfe3df233f83dfa3a0d7096f21ca9b0d6d6b8d88b2b4ec1564e",
    "0x4bbbf85ce3377467afe5d46f804f221813b2bb87f24d81f60f1fcdbf7cbf4356",
    "0xdbda1821b80551c9d65939329250298aa3472ba22feea921c0cf5d620ea67b97",
    "0x2a871d0798f97d79848a013d4936a73bf4cc922c825d33c1cf7073dff6d409c6",
};

static const char *const dev_addresses[GL_ANVIL_DEV_ACCOUNTS] = {
    "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266", "0x70997970C51812dc3A010C7d01b50e0d17dc79C8",
    "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC", "0x90F79bf6EB2c4f870365E785982E1f101E93b906",
    "0x15d34AAf54267DB7D7c367839AAf71A00a2C6A65", "0x9965507D1a55bcC2695C58ba16FB37d819B0A4dc",
    "0x976EA74026E726554dB657fA54763abd0C3a0aa9", "0x14dC79964da2C08b23698B3D3cc7Ca32193d9955",
    "0x23618e81E3f5cdF7f54C3d65f7FBc0aBf5B21E8f", "0xa0Ee7A142d267C1f36714E4a8F75612F20a79720",
};

const char *gl_anvil_dev_key(int i) { return i >= 0 && i < GL_ANVIL_DEV_ACCOUNTS ? dev_keys[i] : NULL; }

const char *gl_anvil_dev_address(int i)
{
    return i >= 0 && i < GL_ANVIL_DEV_ACCOUNTS ? dev_addresses[i] : NULL;
}

const char *gl_anvil_url(const gl_anvil *a) { return a->url; }
uint16_t gl_anvil_port(const gl_anvil *a) { return a->port; }
uint64_t gl_anvil_chain_id(const gl_anvil *a) { return a->chain_id; }
pid_t gl_anvil_pid(const gl_anvil *a) { return a->pid; }
const char *gl_anvil_log_path(const gl_anvil *a) { return a->log_path; }

static bool executable(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode) && access(path, X_OK) == 0;
}

gl_code gl_anvil_find_binary(char *buf, size_t cap, gl_err *err)
{
    const char *env = getenv("GPULEDGER_ANVIL");
    if (env && *env) {
        if (!executable(env))
            return gl_err_set(err, GL_EIO, "GPULEDGER_ANVIL='%s' is not an executable file", env);
        if (snprintf(buf, cap, "%s", env) >= (int)cap)
            return gl_err_set(err, GL_ERANGE, "GPULEDGER_ANVIL path is too long");
        return GL_OK;
    }
    char root[4096];
    if (gl_test_root(root, sizeof root)) {
        if (snprintf(buf, cap, "%s/%s", root, ANVIL_PKG_BIN) >= (int)cap)
            return gl_err_set(err, GL_ERANGE, "anvil path under '%s' is too long", root);
        if (executable(buf))
            return GL_OK;
        return gl_err_set(err, GL_EIO, "anvil not found at '%s': run scripts/setup.sh (or make test), "
                          "or set GPULEDGER_ANVIL", buf);
    }
    return gl_err_set(err, GL_EIO, "anvil not found: GPULEDGER_ANVIL and GPULEDGER_ROOT are unset and no "
                      "ancestor of the current directory is the gpuledger repository");
}

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) && errno == EINTR)
        ;
}

/* Read the whole log (it is small while starting) into buf, NUL-terminated. */
static size_t read_log(const gl_anvil *a, char *buf, size_t cap)
{
    ssize_t n = pread(a->log_fd, buf, cap - 1, 0);
    if (n < 0)
        n = 0;
    buf[n] = '\0';
    return (size_t)n;
}

void gl_anvil_log_tail(const gl_anvil *a, char *out, size_t cap)
{
    struct stat st;
    if (!cap)
        return;
    out[0] = '\0';
    if (fstat(a->log_fd, &st) != 0)
        return;
    off_t want = (off_t)(cap - 1);
    off_t from = st.st_size > want ? st.st_size - want : 0;
    ssize_t n = pread(a->log_fd, out, cap - 1, from);
    if (n < 0)
        n = 0;
    out[n] = '\0';
    for (ssize_t i = 0; i < n; i++)
        if ((unsigned char)out[i] < 0x20)
            out[i] = ' ';
}

/* The port from anvil's "Listening on 127.0.0.1:PORT" line, or 0. */
static uint16_t listening_port(const gl_anvil *a)
{
    char buf[16384];
    read_log(a, buf, sizeof buf);
    const char *p = strstr(buf, "Listening on ");
    if (!p)
        return 0;
    const char *eol = strchr(p, '\n');
    if (!eol)
        return 0; /* line not complete yet */
    const char *colon = NULL;
    for (const char *q = p; q < eol; q++)
        if (*q == ':')
            colon = q;
    if (!colon)
        return 0;
    unsigned long port = strtoul(colon + 1, NULL, 10);
    return port > 0 && port < 65536 ? (uint16_t)port : 0;
}

/* Kill (SIGTERM, then SIGKILL after the grace period) and reap. */
static void kill_and_reap(pid_t pid)
{
    if (pid <= 0)
        return;
    kill(pid, SIGTERM);
    long long deadline = now_ms() + ANVIL_STOP_GRACE_MS;
    for (;;) {
        pid_t r = waitpid(pid, NULL, WNOHANG);
        if (r == pid || (r < 0 && errno != EINTR))
            return;
        if (now_ms() >= deadline)
            break;
        sleep_ms(10);
    }
    kill(pid, SIGKILL);
    while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
        ;
}

void gl_anvil_stop(gl_anvil *a)
{
    if (!a)
        return;
    kill_and_reap(a->pid);
    if (a->log_fd >= 0)
        close(a->log_fd);
    if (a->log_path[0])
        unlink(a->log_path);
    free(a);
}

/* The child: die with the parent, output to the log, exec anvil.  Only
 * async-signal-safe calls here (the parent may have threads).  dup2 clears
 * close-on-exec on the copies, so anvil writes into the (maybe already
 * unlinked) log through fds 1 and 2. */
static void child_exec(pid_t parent, int log_fd, const char *bin, char *const argv[])
{
    if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || getppid() != parent)
        _exit(127);
    int in = open("/dev/null", O_RDONLY);
    if (in < 0 || dup2(in, 0) < 0 || dup2(log_fd, 1) < 0 || dup2(log_fd, 2) < 0)
        _exit(127);
    close_range(3, ~0U, 0);
    execv(bin, argv);
    _exit(127);
}

/* Ask eth_chainId; GL_OK with *id set when the node answers. */
static gl_code probe_chain_id(gl_rpc *rpc, uint64_t *id, gl_err *err)
{
    json_t *res = NULL;
    gl_code rc = gl_rpc_call(rpc, "eth_chainId", NULL, &res, err);
    if (rc)
        return rc;
    const char *s = json_string_value(res);
    char *end = NULL;
    if (!s || strncmp(s, "0x", 2) || !s[2])
        rc = gl_err_set(err, GL_ERPC, "eth_chainId answered something that is not a hex quantity");
    else {
        errno = 0;
        *id = strtoull(s + 2, &end, 16);
        if (errno || *end)
            rc = gl_err_set(err, GL_ERPC, "eth_chainId answered '%s', not a hex quantity", s);
    }
    json_decref(res);
    return rc;
}

/* Wait for the port, then for eth_chainId; fill a->port and a->url. */
static gl_code wait_ready(gl_anvil *a, int timeout_ms, gl_err *err)
{
    long long deadline = now_ms() + timeout_ms;
    gl_rpc *rpc = NULL;
    gl_err last;
    gl_err_clear(&last);
    snprintf(last.msg, sizeof last.msg, "no 'Listening on' line in its log yet");
    gl_code rc = GL_EIO;
    char tail[LOG_TAIL + 1];
    for (;;) {
        int st;
        if (waitpid(a->pid, &st, WNOHANG) == a->pid) {
            a->pid = 0;
            gl_anvil_log_tail(a, tail, sizeof tail);
            rc = gl_err_set(err, GL_EIO, "anvil exited (%s %d) before answering; its log ends: %s",
                            WIFEXITED(st) ? "status" : "signal", WIFEXITED(st) ? WEXITSTATUS(st) : WTERMSIG(st),
                            tail);
            break;
        }
        if (!a->port && (a->port = listening_port(a)) != 0) {
            snprintf(a->url, sizeof a->url, "http://127.0.0.1:%u", (unsigned)a->port);
            rpc = gl_rpc_new(a->url, err);
            if (!rpc) {
                rc = gl_err_prefix(err, "anvil harness: ");
                break;
            }
            gl_rpc_set_timeouts(rpc, 1000, 2000);
        }
        uint64_t id = 0;
        if (rpc && probe_chain_id(rpc, &id, &last) == GL_OK) {
            rc = id == a->chain_id ? GL_OK
                                   : gl_err_set(err, GL_EIO, "anvil at %s answers chain id %" PRIu64
                                                " instead of %" PRIu64, a->url, id, a->chain_id);
            break;
        }
        if (now_ms() >= deadline) {
            gl_anvil_log_tail(a, tail, sizeof tail);
            rc = gl_err_set(err, GL_EIO, "anvil did not answer eth_chainId within %d ms (%s); its log ends: %s",
                            timeout_ms, last.msg, tail);
            break;
        }
        sleep_ms(ANVIL_POLL_MS);
    }
    gl_rpc_free(rpc);
    return rc;
}

gl_code gl_anvil_start(const gl_anvil_opts *opts, gl_anvil **out, gl_err *err)
{
    *out = NULL;
    gl_anvil_opts o = {0};
    if (opts)
        o = *opts;
    if (!o.chain_id)
        o.chain_id = GL_ANVIL_DEFAULT_CHAIN_ID;
    if (!o.timestamp)
        o.timestamp = GL_ANVIL_GENESIS_TIMESTAMP;
    if (o.start_timeout_ms <= 0)
        o.start_timeout_ms = GL_ANVIL_START_TIMEOUT_MS_DEFAULT;

    char bin[4096];
    gl_code rc = gl_anvil_find_binary(bin, sizeof bin, err);
    if (rc)
        return rc;

    char ts[32], cid[32];
    snprintf(ts, sizeof ts, "%" PRIu64, o.timestamp);
    snprintf(cid, sizeof cid, "%" PRIu64, o.chain_id);
    /* --max-persisted-states 0: anvil otherwise spills old states to
     * ~/.foundry/anvil/tmp and never removes them when killed; a long test
     * run filled an 80 GB disk that way. */
    char *argv[12 + ANVIL_MAX_EXTRA] = {
        "anvil", "--host", "127.0.0.1", "--port", "0", "--timestamp", ts, "--chain-id", cid,
        "--max-persisted-states", "0",
    };
    size_t argc = 11;
    for (size_t i = 0; o.extra_args && o.extra_args[i]; i++) {
        if (i >= ANVIL_MAX_EXTRA)
            return gl_err_set(err, GL_EINVAL, "more than %d extra anvil arguments", ANVIL_MAX_EXTRA);
        argv[argc++] = (char *)o.extra_args[i];
    }
    argv[argc] = NULL;

    gl_anvil *a = calloc(1, sizeof *a);
    if (!a)
        return gl_err_set(err, GL_ENOMEM, "out of memory starting anvil");
    a->chain_id = o.chain_id;
    const char *tmp = getenv("TMPDIR");
    snprintf(a->log_path, sizeof a->log_path, "%s/gpuledger-anvil-XXXXXX.log", tmp && *tmp ? tmp : "/tmp");
    a->log_fd = mkostemps(a->log_path, 4, O_CLOEXEC);
    if (a->log_fd < 0) {
        rc = gl_err_set(err, GL_EIO, "cannot create anvil's log '%s': %s", a->log_path, strerror(errno));
        a->log_path[0] = '\0';
        gl_anvil_stop(a);
        return rc;
    }
    /* Unless asked to keep it, the log lives only as long as the fd: a test
     * that fails between start and stop leaves no file behind. */
    const char *keep = getenv("GPULEDGER_KEEP_ANVIL_LOG");
    if (!keep || !*keep || !strcmp(keep, "0")) {
        unlink(a->log_path);
        a->log_path[0] = '\0';
    }

    pid_t parent = getpid();
    a->pid = fork();
    if (a->pid < 0) {
        a->pid = 0;
        rc = gl_err_set(err, GL_EIO, "cannot fork to start anvil: %s", strerror(errno));
        gl_anvil_stop(a);
        return rc;
    }
    if (a->pid == 0)
        child_exec(parent, a->log_fd, bin, argv);

    rc = wait_ready(a, o.start_timeout_ms, err);
    if (rc) {
        gl_anvil_stop(a);
        return rc;
    }
    *out = a;
    return GL_OK;
}
