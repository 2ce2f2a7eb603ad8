#ifndef VIGIL_CPCAP_SHIM_H
#define VIGIL_CPCAP_SHIM_H
#include <stdio.h>
#include <stdint.h>
#include <sys/types.h>
#include <string.h>
#include <errno.h>
#include <pcap/pcap.h>
#include <zlib.h>

/* glibc's fopencookie(3), declared here so that no module needs _GNU_SOURCE (which would
   make system types differ between this module and Foundation's). Same layout as
   cookie_io_functions_t. */
typedef struct {
    ssize_t (*read)(void *, char *, size_t);
    ssize_t (*write)(void *, const char *, size_t);
    int (*seek)(void *, int64_t *, int);
    int (*close)(void *);
} vigil_cookie_io_functions;
extern FILE *fopencookie(void *cookie, const char *mode, vigil_cookie_io_functions io);

/* Opens a gzip-compressed (or plain: zlib passes plain files through) file as a
   read-only stdio stream so libpcap can read .pcap.gz captures directly. */
static ssize_t vigil_gz_read(void *cookie, char *buf, size_t size) {
    int n = gzread((gzFile)cookie, buf, (unsigned)(size > 0x40000000u ? 0x40000000u : size));
    return n < 0 ? -1 : n;
}
static int vigil_gz_close(void *cookie) { return gzclose((gzFile)cookie) == Z_OK ? 0 : -1; }
/* Only "where am I" is supported, so ftell() can name the offset of a bad record. */
static int vigil_gz_seek(void *cookie, int64_t *offset, int whence) {
    if (whence == SEEK_CUR && *offset == 0) { *offset = (int64_t)gztell((gzFile)cookie); return 0; }
    errno = ESPIPE;
    return -1;
}

static inline FILE *vigil_gzfopen(const char *path) {
    gzFile gz = gzopen(path, "rb");
    if (gz == NULL) return NULL;
    gzbuffer(gz, 1 << 17);
    vigil_cookie_io_functions io = { vigil_gz_read, NULL, vigil_gz_seek, vigil_gz_close };
    FILE *f = fopencookie(gz, "r", io);
    if (f == NULL) { gzclose(gz); return NULL; }
    return f;
}

static inline const char *vigil_strerror(int e) { return strerror(e); }
static inline int vigil_errno(void) { return errno; }
static inline long vigil_pcap_offset(pcap_t *p) { FILE *f = pcap_file(p); return f ? ftell(f) : -1; }
#endif
