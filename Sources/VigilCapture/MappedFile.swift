import CHints
import Foundation
import VigilCore

/// A read-only file mapped into memory for sequential reading, as the capture readers use
/// it. Pages already read can be handed back so that resident memory stays small however
/// large the file (the kernel keeps them in its page cache).
final class MappedFile {
    let path: String
    let base: UnsafeRawPointer
    let size: Int
    @exclusivity(unchecked) private var released = 0
    static let releaseStep = 64 << 20

    /// Maps `path` (an empty file maps to an empty buffer).
    init(path: String) throws {
        self.path = path
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { throw VigilError.io("cannot open: \(String(cString: strerror(errno)))", file: path) }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw VigilError.io("cannot stat: \(String(cString: strerror(errno)))", file: path) }
        size = Int(st.st_size)
        guard size > 0 else {
            throw VigilError.badInput("not a readable capture: the file is empty", file: path, offset: 0)
        }
        guard let m = mmap(nil, size, PROT_READ, MAP_PRIVATE, fd, 0), m != MAP_FAILED else {
            throw VigilError.io("cannot map: \(String(cString: strerror(errno)))", file: path)
        }
        madvise(m, size, MADV_SEQUENTIAL)
        base = UnsafeRawPointer(m)
        populate(from: 0)
    }

    /// MADV_POPULATE_READ (Linux 5.14): maps a step of pages in one call instead of one fault
    /// per few pages. Older kernels refuse it, and pages then fault in as they are read.
    static let populateRead: Int32 = 22

    private func populate(from offset: Int) {
        let page = Int(sysconf(Int32(_SC_PAGESIZE)))
        let start = offset / page * page
        guard start < size else { return }
        _ = madvise(UnsafeMutableRawPointer(mutating: base) + start, min(Self.releaseStep, size - start), Self.populateRead)
    }

    deinit { munmap(UnsafeMutableRawPointer(mutating: base), size) }

    /// The whole file; valid as long as this object lives.
    var bytes: UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: base, count: size) }

    /// A hint that the bytes at `offset` will be read soon (nothing past the end).
    @inline(__always)
    func prefetch(at offset: Int) {
        if offset < size { vigil_prefetch(base + offset) }
    }

    /// Hands back the pages before `offset` once another step has been read.
    @inline(__always)
    func consumed(upTo offset: Int) {
        guard offset - released >= Self.releaseStep else { return }
        let page = Int(sysconf(Int32(_SC_PAGESIZE)))
        let upTo = offset / page * page
        madvise(UnsafeMutableRawPointer(mutating: base) + released, upTo - released, MADV_DONTNEED)
        released = upTo
        populate(from: upTo)
    }
}
