/* The floor under any MCP gateway that is a process of its own: a stdio relay that does nothing
 * but copy bytes between its client and the server it spawns (a thread each way, blocking reads,
 * as the gateway reads). bench/mcp_latency.py runs it beside `vigil mcp proxy`, so what the
 * gateway adds can be read against what the two extra pipe hops alone cost on this machine. */
#include <pthread.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

static int to_server, from_server;

static void copy(int from, int to) {
    char b[65536];
    ssize_t n;
    while ((n = read(from, b, sizeof b)) > 0)
        for (ssize_t off = 0; off < n;) {
            ssize_t w = write(to, b + off, (size_t)(n - off));
            if (w <= 0) return;
            off += w;
        }
}

static void *answers(void *unused) { (void)unused; copy(from_server, 1); return NULL; }

int main(int argc, char **argv) {
    int in[2], out[2];
    if (argc < 2 || pipe(in) || pipe(out)) return 2;
    pid_t pid = fork();
    if (pid == 0) {
        dup2(in[0], 0); dup2(out[1], 1);
        close(in[1]); close(out[0]);
        execvp(argv[1], argv + 1);
        _exit(127);
    }
    close(in[0]); close(out[1]);
    to_server = in[1]; from_server = out[0];
    pthread_t t;
    pthread_create(&t, NULL, answers, NULL);
    copy(0, to_server);
    close(to_server);
    waitpid(pid, NULL, 0);
    return 0;
}
