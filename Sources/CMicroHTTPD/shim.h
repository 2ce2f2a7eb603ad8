#ifndef VIGIL_CMICROHTTPD_SHIM_H
#define VIGIL_CMICROHTTPD_SHIM_H
#include <stdint.h>
#include <string.h>
#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <microhttpd.h>

typedef enum MHD_Result (*vigil_mhd_handler)(void *cls, struct MHD_Connection *c, const char *url,
    const char *method, const char *version, const char *upload, size_t *upload_size, void **con_cls);
typedef void (*vigil_mhd_completed)(void *cls, struct MHD_Connection *c, void **con_cls,
    enum MHD_RequestTerminationCode why);

/* MHD_start_daemon is variadic; Swift calls this instead. A thread per connection, so a handler
   may wait for an upstream's answer; bound to one IPv4 address (127.0.0.1 by default). */
static inline struct MHD_Daemon *vigil_mhd_start(uint16_t port, const char *address, vigil_mhd_handler h,
                                                vigil_mhd_completed done, void *cls, unsigned int max_connections) {
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_port = htons(port);
    if (inet_pton(AF_INET, address, &sa.sin_addr) != 1) return NULL;
    return MHD_start_daemon(MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG,
                            port, NULL, NULL, h, cls,
                            MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
                            MHD_OPTION_NOTIFY_COMPLETED, done, cls,
                            MHD_OPTION_CONNECTION_LIMIT, max_connections,
                            MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)300,
                            MHD_OPTION_END);
}

/* A response that owns a copy of the body. */
static inline struct MHD_Response *vigil_mhd_copy_response(size_t size, const void *body) {
    return MHD_create_response_from_buffer(size, (void *)body, MHD_RESPMEM_MUST_COPY);
}

static inline uint16_t vigil_mhd_port(struct MHD_Daemon *d) {
    const union MHD_DaemonInfo *i = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
    return i ? i->port : 0;
}
#endif
