//===- file_io.h - Reading and writing files that may be hostile -*- C++
//-*-===//
//
// Internal to libdpcrt. Every file the runtime reads (data, checkpoints,
// modules) and writes (checkpoints, traces) goes through here, so that the
// same rules hold everywhere:
//
//  - Only regular files are read, with a size known before any byte is: a
//    FIFO would block forever, /dev/zero never ends, a directory has no
//    bytes. Readers ask for exact ranges and errors name the file.
//  - Outputs are written to a temporary file in the destination's directory
//    and renamed over it, never onto anything but a regular file (renaming
//    over /dev/null as root replaces the device node, over a symbolic link
//    replaces the link), and the temporary file is removed when the process
//    is interrupted (SIGINT, SIGTERM, SIGHUP) while it exists.
//
//===----------------------------------------------------------------------===//

#ifndef DPC_RUNTIME_LIB_FILE_IO_H
#define DPC_RUNTIME_LIB_FILE_IO_H

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace dpc {

/// A regular file opened for reading. `what` ("checkpoint", ".npy file")
/// names it in errors: "cannot read checkpoint 'x': it is a directory".
class InputFile {
public:
  InputFile(const std::string &path, const std::string &what);
  ~InputFile();
  InputFile(const InputFile &) = delete;
  InputFile &operator=(const InputFile &) = delete;

  const std::string &path() const { return filePath; }
  /// The size when the file was opened.
  uint64_t size() const { return fileSize; }
  /// Reads exactly `n` bytes at `offset`; throws when the file has fewer
  /// (it shrank since it was opened) or cannot be read.
  void read(uint64_t offset, void *out, uint64_t n) const;
  std::vector<unsigned char> read(uint64_t offset, uint64_t n) const;
  /// The open descriptor, for mapping the file (NpyFile).
  int descriptor() const { return fd; }

private:
  std::string filePath, what;
  int fd = -1;
  uint64_t fileSize = 0;
};

/// Writes `path` atomically: `write` fills a temporary file beside it (it
/// returns false with errno set on failure), which is synced and renamed
/// over `path`. Refuses a destination that exists and is not a regular
/// file. Throws "cannot write <what> '<path>': <reason>".
void writeFileAtomically(const std::string &path, const std::string &what,
                         const std::function<bool(int fd)> &write);

/// Checks a model.so before dlopen: a regular file, an ELF shared library
/// for this machine whose tables and loaded segments lie inside the file,
/// ending in the checksum trailer dpc appends (abi.h), which must match.
/// Throws "cannot load <path>: <why>".
void checkModuleFile(const std::string &path);

/// Writes all of `bytes` to `fd`, retrying short writes and EINTR.
bool writeAll(int fd, const void *bytes, size_t size);

/// `text` with every byte that is not printable ASCII written as \xNN, for
/// echoing bytes from a file in an error message.
std::string escapeBytes(std::string_view text);

} // namespace dpc

#endif // DPC_RUNTIME_LIB_FILE_IO_H
