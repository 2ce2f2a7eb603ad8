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
   may wait (for an upstream's answer, for the next live event); bound to one IPv4 address.
   With a PEM key and certificate the daemon speaks HTTPS (GnuTLS, as Debian builds it). */
static inline struct MHD_Daemon *vigil_mhd_start(uint16_t port, const char *address, vigil_mhd_handler h,
                                                vigil_mhd_completed done, void *cls, unsigned int max_connections,
                                                const char *tls_key, const char *tls_cert) {
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_port = htons(port);
    if (inet_pton(AF_INET, address, &sa.sin_addr) != 1) return NULL;
    unsigned int flags = MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG;
    if (tls_key && tls_cert) {
        return MHD_start_daemon(flags | MHD_USE_TLS, port, NULL, NULL, h, cls,
                                MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
                                MHD_OPTION_NOTIFY_COMPLETED, done, cls,
                                MHD_OPTION_CONNECTION_LIMIT, max_connections,
                                MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)300,
                                MHD_OPTION_HTTPS_MEM_KEY, tls_key,
                                MHD_OPTION_HTTPS_MEM_CERT, tls_cert,
                                MHD_OPTION_END);
    }
    return MHD_start_daemon(flags, port, NULL, NULL, h, cls,
                            MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
                            MHD_OPTION_NOTIFY_COMPLETED, done, cls,
                            MHD_OPTION_CONNECTION_LIMIT, max_connections,
                            MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)300,
                            MHD_OPTION_END);
}

static inline int vigil_mhd_has_tls(void) { return MHD_is_feature_supported(MHD_FEATURE_TLS) == MHD_YES; }

typedef ssize_t (*vigil_mhd_reader)(void *cls, uint64_t pos, char *buf, size_t max);
typedef void (*vigil_mhd_free)(void *cls);

/* A response of unknown length whose bytes come from a callback (a live event stream). */
static inline struct MHD_Response *vigil_mhd_stream_response(vigil_mhd_reader reader, void *cls, vigil_mhd_free done) {
    return MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 4096, reader, cls, done);
}
static inline ssize_t vigil_mhd_end_of_stream(void) { return MHD_CONTENT_READER_END_OF_STREAM; }

typedef enum MHD_Result (*vigil_mhd_pair)(void *cls, enum MHD_ValueKind kind, const char *key, const char *value);

/* Every header or query argument of a request, through an iterator. */
static inline int vigil_mhd_values(struct MHD_Connection *c, enum MHD_ValueKind kind, vigil_mhd_pair it, void *cls) {
    return MHD_get_connection_values(c, kind, it, cls);
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
