//===- file_io.cpp - Reading and writing files that may be hostile --------===//

#include "io/file_io.h"

#include "dpc/runtime.h"

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <climits>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <mutex>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

using namespace dpc;

namespace {

std::string quoted(const std::string &what, const std::string &path) {
  return (what.empty() ? "" : what + " ") + "'" + path + "'";
}

/// "a directory", "a FIFO", ... for a file that is not a regular one.
const char *fileKind(mode_t mode) {
  if (S_ISDIR(mode))
    return "a directory";
  if (S_ISFIFO(mode))
    return "a FIFO";
  if (S_ISCHR(mode))
    return "a character device";
  if (S_ISBLK(mode))
    return "a block device";
  if (S_ISSOCK(mode))
    return "a socket";
  if (S_ISLNK(mode))
    return "a symbolic link";
  return "not a regular file";
}

/// The directory part of `path` ("." when it has none).
std::string directoryOf(const std::string &path) {
  size_t slash = path.rfind('/');
  if (slash == std::string::npos)
    return ".";
  return slash == 0 ? "/" : path.substr(0, slash);
}

//===----------------------------------------------------------------------===//
// Temporary files removed on SIGINT, SIGTERM and SIGHUP
//===----------------------------------------------------------------------===//

// A fixed table the signal handler can read without locks or allocation.
// State: 0 free, 1 being filled, 2 holds a path to remove.
constexpr int kMaxTemporaries = 16;
struct TemporarySlot {
  std::atomic<int> state{0};
  char path[PATH_MAX];
};
TemporarySlot temporaries[kMaxTemporaries];
constexpr int kCleanupSignals[] = {SIGINT, SIGTERM, SIGHUP};

extern "C" void removeTemporariesAndDie(int signal) {
  for (TemporarySlot &slot : temporaries)
    if (slot.state.load() == 2)
      ::unlink(slot.path);
  // Die of the same signal, so the parent (a shell, mpirun) sees it.
  std::signal(signal, SIG_DFL);
  std::raise(signal);
}

/// Installs the handler for the signals whose disposition is still the
/// default: a program embedding the runtime keeps its own handlers.
void installCleanupHandlers() {
  static std::once_flag once;
  std::call_once(once, [] {
    for (int signal : kCleanupSignals) {
      struct sigaction old;
      if (::sigaction(signal, nullptr, &old) != 0 ||
          old.sa_handler != SIG_DFL || (old.sa_flags & SA_SIGINFO))
        continue;
      struct sigaction action = {};
      action.sa_handler = removeTemporariesAndDie;
      sigemptyset(&action.sa_mask);
      ::sigaction(signal, &action, nullptr);
    }
  });
}

/// Registers `path` for removal on a signal; returns its slot or -1 when
/// the table is full (the file is then only removed on ordinary failures).
int registerTemporary(const std::string &path) {
  if (path.size() >= PATH_MAX)
    return -1;
  for (int i = 0; i < kMaxTemporaries; ++i) {
    int expected = 0;
    if (temporaries[i].state.compare_exchange_strong(expected, 1)) {
      std::memcpy(temporaries[i].path, path.c_str(), path.size() + 1);
      temporaries[i].state.store(2);
      return i;
    }
  }
  return -1;
}

void unregisterTemporary(int slot) {
  if (slot >= 0)
    temporaries[slot].state.store(0);
}

} // namespace

//===----------------------------------------------------------------------===//
// Reading
//===----------------------------------------------------------------------===//

InputFile::InputFile(const std::string &path, const std::string &what)
    : filePath(path), what(what) {
  // O_NONBLOCK: opening a FIFO for reading would otherwise wait for a
  // writer. Regular files ignore the flag.
  fd = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
  if (fd < 0)
    throw Error("cannot open " + quoted(what, path) + ": " +
                std::strerror(errno));
  struct stat st;
  if (::fstat(fd, &st) != 0) {
    int saved = errno;
    ::close(fd);
    throw Error("cannot read " + quoted(what, path) + ": " +
                std::strerror(saved));
  }
  if (!S_ISREG(st.st_mode)) {
    ::close(fd);
    throw Error("cannot read " + quoted(what, path) + ": it is " +
                fileKind(st.st_mode) + ", not a regular file");
  }
  fileSize = static_cast<uint64_t>(st.st_size);
}

InputFile::~InputFile() {
  if (fd >= 0)
    ::close(fd);
}

void InputFile::read(uint64_t offset, void *out, uint64_t n) const {
  if (offset > fileSize || n > fileSize - offset)
    throw Error(filePath + ": truncated: needs " + std::to_string(n) +
                " bytes at offset " + std::to_string(offset) +
                ", the file has " + std::to_string(fileSize));
  auto *p = static_cast<unsigned char *>(out);
  while (n > 0) {
    size_t chunk = static_cast<size_t>(std::min<uint64_t>(n, 1u << 30));
    ssize_t got = ::pread(fd, p, chunk, static_cast<off_t>(offset));
    if (got < 0 && errno == EINTR)
      continue;
    if (got < 0)
      throw Error("cannot read " + quoted(what, filePath) + ": " +
                  std::strerror(errno));
    if (got == 0)
      throw Error(filePath + ": the file shrank while it was read");
    p += got;
    offset += static_cast<uint64_t>(got);
    n -= static_cast<uint64_t>(got);
  }
}

std::vector<unsigned char> InputFile::read(uint64_t offset, uint64_t n) const {
  // Checked before allocating: a hostile header may ask for exabytes.
  if (offset > fileSize || n > fileSize - offset)
    read(offset, nullptr, n); // throws the truncation error
  std::vector<unsigned char> bytes(static_cast<size_t>(n));
  read(offset, bytes.data(), n);
  return bytes;
}

//===----------------------------------------------------------------------===//
// Writing
//===----------------------------------------------------------------------===//

bool dpc::writeAll(int fd, const void *bytes, size_t size) {
  const char *p = static_cast<const char *>(bytes);
  while (size > 0) {
    ssize_t n = ::write(fd, p, size);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      return false;
    p += n;
    size -= static_cast<size_t>(n);
  }
  return true;
}

void dpc::checkOutputFile(const std::string &path, const std::string &what,
                          const std::vector<std::string> &inputs) {
  if (path.empty())
    throw Error(what + ": the file name is empty");
  struct stat target;
  bool exists = ::lstat(path.c_str(), &target) == 0;
  if (exists && !S_ISREG(target.st_mode))
    throw Error("refusing to write " + quoted(what, path) + ": it is " +
                fileKind(target.st_mode) +
                ", which would be replaced by a regular file");
  if (exists)
    for (const std::string &input : inputs) {
      struct stat in;
      if (!input.empty() && ::stat(input.c_str(), &in) == 0 &&
          in.st_dev == target.st_dev && in.st_ino == target.st_ino)
        throw Error("refusing to write " + quoted(what, path) +
                    ": it is the input '" + input + "'");
    }
  // Can a temporary file be made beside it? (Permissions alone do not say:
  // root ignores them, a read-only file system does not.)
  std::string probe = path + ".tmp.XXXXXX";
  int fd = ::mkstemp(probe.data());
  if (fd < 0) {
    int saved = errno;
    struct stat dir;
    std::string directory = directoryOf(path);
    if (::stat(directory.c_str(), &dir) != 0 || !S_ISDIR(dir.st_mode))
      throw Error("cannot write " + quoted(what, path) + ": the directory '" +
                  directory + "' does not exist");
    throw Error("cannot write " + quoted(what, path) + ": " +
                std::strerror(saved));
  }
  ::close(fd);
  ::unlink(probe.c_str());
}

void dpc::writeFileAtomically(const std::string &path, const std::string &what,
                              const std::function<bool(int fd)> &write) {
  auto fail = [&](int error) {
    return Error("cannot write " + quoted(what, path) + ": " +
                 std::strerror(error));
  };
  // Checked again right before the rename below: the check before the run
  // may be long ago.
  struct stat target;
  if (::lstat(path.c_str(), &target) == 0 && !S_ISREG(target.st_mode))
    checkOutputFile(path, what, {}); // throws, naming the kind of file
  installCleanupHandlers();
  std::string tmp = path + ".tmp.XXXXXX";
  int fd = ::mkstemp(tmp.data());
  if (fd < 0)
    throw fail(errno);
  int slot = registerTemporary(tmp);
  mode_t mask = ::umask(0);
  ::umask(mask);
  ::fchmod(fd, 0666 & ~mask);
  errno = 0;
  bool ok = write(fd);
  int savedErrno = errno;
  if (ok && ::fsync(fd) != 0) {
    ok = false;
    savedErrno = errno;
  }
  if (::close(fd) != 0 && ok) {
    ok = false;
    savedErrno = errno;
  }
  if (ok && ::lstat(path.c_str(), &target) == 0 && !S_ISREG(target.st_mode)) {
    ::unlink(tmp.c_str());
    unregisterTemporary(slot);
    checkOutputFile(path, what, {}); // throws
  }
  if (ok && ::rename(tmp.c_str(), path.c_str()) != 0) {
    ok = false;
    savedErrno = errno;
  }
  if (!ok)
    ::unlink(tmp.c_str());
  unregisterTemporary(slot);
  if (!ok)
    throw fail(savedErrno ? savedErrno : EIO);
}

std::string dpc::escapeBytes(std::string_view text) {
  std::string out;
  for (unsigned char c : text) {
    if (c >= 0x20 && c < 0x7f && c != '\\') {
      out += static_cast<char>(c);
      continue;
    }
    char buffer[5];
    std::snprintf(buffer, sizeof(buffer), "\\x%02x", c);
    out += buffer;
  }
  return out;
}
