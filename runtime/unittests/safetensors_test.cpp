//===- safetensors_test.cpp - Reading and writing safetensors -------------===//

#include "test_util.h"

#include "io/file_io.h"

#include <csignal>

#include <dirent.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

namespace {

using namespace dpc;
using namespace dpc::test;

std::string withHeader(const std::string &json, const std::string &data) {
  std::string out;
  uint64_t n = json.size();
  for (int i = 0; i < 8; ++i)
    out += static_cast<char>((n >> (8 * i)) & 0xff);
  return out + json + data;
}

size_t countFiles(const std::string &dir) {
  size_t n = 0;
  DIR *d = opendir(dir.c_str());
  while (dirent *e = readdir(d))
    n += e->d_name[0] != '.';
  closedir(d);
  return n;
}

TEST(SafetensorsTest, RoundTrip) {
  TempDir dir;
  std::vector<float> w = {1.5f, -2, 3, 4, 5, 6};
  std::vector<double> d = {0.25};
  int64_t step = 42;
  std::vector<TensorView> views = {
      {"fc1.weight", DType::F32, {2, 3}, w.data()},
      {"x.f64", DType::F64, {1}, d.data()},
      {"optimizer.step", DType::I64, {}, &step},
  };
  writeSafetensors(dir.path("c.safetensors"), views, {{"format", "pt"}});
  EXPECT_EQ(countFiles(dir.str()), 1u); // no temporary left behind

  std::string bytes = readBytes(dir.path("c.safetensors"));
  uint64_t headerLen = 0;
  std::memcpy(&headerLen, bytes.data(), 8);
  EXPECT_EQ((8 + headerLen) % 8, 0u);
  EXPECT_EQ(bytes.size(), 8 + headerLen + 24 + 8 + 8);

  SafetensorsFile f = readSafetensors(dir.path("c.safetensors"));
  EXPECT_EQ(f.metadata.at("format"), "pt");
  ASSERT_EQ(f.tensors.size(), 3u);
  const HostTensor &t = f.tensors.at("fc1.weight");
  EXPECT_EQ(t.dtype, DType::F32);
  EXPECT_EQ(t.shape, (std::vector<int64_t>{2, 3}));
  EXPECT_EQ(std::vector<float>(t.data<float>(), t.data<float>() + 6), w);
  EXPECT_EQ(f.tensors.at("x.f64").data<double>()[0], 0.25);
  EXPECT_TRUE(f.tensors.at("optimizer.step").shape.empty());
  EXPECT_EQ(f.tensors.at("optimizer.step").data<int64_t>()[0], 42);
}

TEST(SafetensorsTest, OverwritesAtomically) {
  TempDir dir;
  float a = 1, b = 2;
  writeSafetensors(dir.path("c.safetensors"), {{"a", DType::F32, {}, &a}});
  writeSafetensors(dir.path("c.safetensors"), {{"a", DType::F32, {}, &b}});
  EXPECT_EQ(countFiles(dir.str()), 1u);
  EXPECT_EQ(readSafetensors(dir.path("c.safetensors"))
                .tensors.at("a")
                .data<float>()[0],
            2.0f);
}

TEST(SafetensorsTest, WriteErrors) {
  TempDir dir;
  float a = 1;
  EXPECT_DPC_ERROR(writeSafetensors(dir.path("no/such/dir/c.safetensors"),
                                    {{"a", DType::F32, {}, &a}}),
                   "cannot write '" + dir.path("no/such/dir/c.safetensors") +
                       "': No such file or directory");
  EXPECT_DPC_ERROR(
      writeSafetensors(dir.path("c.safetensors"),
                       {{"a", DType::F32, {}, &a}, {"a", DType::F32, {}, &a}}),
      "tensor name 'a' appears twice");
  EXPECT_EQ(countFiles(dir.str()), 0u);
}

TEST(SafetensorsTest, RejectsBadFiles) {
  TempDir dir;
  std::string p = dir.path("bad.safetensors");
  EXPECT_DPC_ERROR(readSafetensors(p), "cannot open '" + p + "'");

  writeBytes(p, "abc");
  EXPECT_DPC_ERROR(readSafetensors(p), p + ": not a safetensors file");
  writeBytes(p, "this is definitely not a safetensors file");
  EXPECT_DPC_ERROR(readSafetensors(p), "exceeds the file size");
  writeBytes(p, withHeader("{not json", ""));
  EXPECT_DPC_ERROR(readSafetensors(p), "header is not valid JSON");
  writeBytes(p, withHeader("[1, 2]", ""));
  EXPECT_DPC_ERROR(readSafetensors(p), "header is not a JSON object");

  writeBytes(p, withHeader(R"({"a": {"dtype": "BF16", "shape": [1],
                               "data_offsets": [0, 2]}})",
                           "xx"));
  EXPECT_DPC_ERROR(readSafetensors(p),
                   "tensor 'a' has dtype BF16; only F32, F64 and I64");
  writeBytes(p, withHeader(R"({"a": {"dtype": "F32", "shape": [2],
                               "data_offsets": [0, 4]}})",
                           "xxxx"));
  EXPECT_DPC_ERROR(readSafetensors(p),
                   "tensor 'a' has 4 data bytes for shape [2]");
  writeBytes(p, withHeader(R"({"a": {"dtype": "F32", "shape": [-1],
                               "data_offsets": [0, 4]}})",
                           "xxxx"));
  EXPECT_DPC_ERROR(readSafetensors(p), "tensor 'a' has a malformed shape");
  writeBytes(p, withHeader(R"({"a": {"dtype": "F32"}})", ""));
  EXPECT_DPC_ERROR(readSafetensors(p),
                   "tensor 'a' has a malformed header entry");

  // A good file cut short.
  std::vector<float> w(16, 1.0f);
  writeSafetensors(p, {{"w", DType::F32, {16}, w.data()}});
  std::string full = readBytes(p);
  writeBytes(p, full.substr(0, full.size() - 10));
  EXPECT_DPC_ERROR(readSafetensors(p), "(truncated file?)");
  writeBytes(p, full.substr(0, 20));
  EXPECT_DPC_ERROR(readSafetensors(p), "exceeds the file size");
}

TEST(SafetensorsTest, RejectsWhatTheFormatForbids) {
  TempDir dir;
  std::string p = dir.path("bad.safetensors");
  // nlohmann::json would keep the second "a": its data silently replaces
  // the first's.
  writeBytes(p, withHeader(R"({"a": {"dtype": "F32", "shape": [1],
                               "data_offsets": [0, 4]},
                               "a": {"dtype": "F32", "shape": [1],
                               "data_offsets": [4, 8]}})",
                           "xxxxyyyy"));
  EXPECT_DPC_ERROR(readSafetensors(p), "names 'a' twice");
  writeBytes(p, withHeader(R"({"a": {"dtype": "F32", "dtype": "F64",
                               "shape": [1], "data_offsets": [0, 4]}})",
                           "xxxx"));
  EXPECT_DPC_ERROR(readSafetensors(p), "names 'dtype' twice");
  // Two tensors sharing bytes.
  writeBytes(p, withHeader(R"({"a": {"dtype": "F32", "shape": [2],
                               "data_offsets": [0, 8]},
                               "b": {"dtype": "F32", "shape": [1],
                               "data_offsets": [4, 8]}})",
                           "xxxxyyyy"));
  EXPECT_DPC_ERROR(readSafetensors(p),
                   "the data of tensor 'b' overlaps that of 'a'");
  // Bytes no tensor accounts for: a gap, and after the last tensor.
  writeBytes(p, withHeader(R"({"a": {"dtype": "F32", "shape": [1],
                               "data_offsets": [0, 4]},
                               "b": {"dtype": "F32", "shape": [1],
                               "data_offsets": [8, 12]}})",
                           "xxxxggggyyyy"));
  EXPECT_DPC_ERROR(readSafetensors(p),
                   "bytes [4, 8) of the data belong to no tensor");
  writeBytes(p, withHeader(R"({"a": {"dtype": "F32", "shape": [1],
                               "data_offsets": [0, 4]}})",
                           "xxxxtrailing"));
  EXPECT_DPC_ERROR(readSafetensors(p),
                   "8 bytes after the last tensor's data belong to no tensor");
  // Names from the file are echoed escaped.
  writeBytes(p, withHeader("{\"\\u001b[2Jx\": {\"dtype\": \"F32\", "
                           "\"shape\": [1], \"data_offsets\": [0, 4]},"
                           "\"\\u001b[2Jx\": {}}",
                           "xxxx"));
  EXPECT_DPC_ERROR(readSafetensors(p), "names '\\x1b[2Jx' twice");
  // Still fine: tensors in any order in the header, empty tensors.
  writeBytes(p, withHeader(R"({"b": {"dtype": "F32", "shape": [1],
                               "data_offsets": [4, 8]},
                               "e": {"dtype": "F32", "shape": [0],
                               "data_offsets": [8, 8]},
                               "a": {"dtype": "F32", "shape": [1],
                               "data_offsets": [0, 4]}})",
                           "xxxxyyyy"));
  EXPECT_EQ(readSafetensors(p).tensors.size(), 3u);
}

TEST(SafetensorsTest, ReadsOnlyRegularFiles) {
  TempDir dir;
  // A directory used to say "basic_filebuf::underflow error reading the
  // file", naming nothing.
  EXPECT_DPC_ERROR(readSafetensors(dir.str()),
                   "cannot read '" + dir.str() + "': it is a directory");
  // A FIFO used to block forever waiting for a writer.
  std::string fifo = dir.path("fifo");
  ASSERT_EQ(mkfifo(fifo.c_str(), 0600), 0);
  EXPECT_DPC_ERROR(readSafetensors(fifo), "it is a FIFO, not a regular file");
  EXPECT_DPC_ERROR(readSafetensors("/dev/zero"),
                   "it is a character device, not a regular file");
}

TEST(SafetensorsTest, RefusesToReplaceWhatIsNotARegularFile) {
  TempDir dir;
  float a = 1;
  std::string fifo = dir.path("fifo");
  ASSERT_EQ(mkfifo(fifo.c_str(), 0600), 0);
  EXPECT_DPC_ERROR(writeSafetensors(fifo, {{"a", DType::F32, {}, &a}}),
                   "refusing to write '" + fifo + "': it is a FIFO");
  struct stat st;
  ASSERT_EQ(lstat(fifo.c_str(), &st), 0);
  EXPECT_TRUE(S_ISFIFO(st.st_mode));

  std::string target = dir.path("target"), link = dir.path("link");
  writeBytes(target, "precious");
  ASSERT_EQ(symlink(target.c_str(), link.c_str()), 0);
  EXPECT_DPC_ERROR(writeSafetensors(link, {{"a", DType::F32, {}, &a}}),
                   "it is a symbolic link");
  ASSERT_EQ(lstat(link.c_str(), &st), 0);
  EXPECT_TRUE(S_ISLNK(st.st_mode));
  EXPECT_EQ(readBytes(target), "precious");
  EXPECT_DPC_ERROR(writeSafetensors(dir.str(), {{"a", DType::F32, {}, &a}}),
                   "it is a directory");
  EXPECT_EQ(countFiles(dir.str()), 3u); // fifo, target, link: no temporary
}

TEST(SafetensorsTest, CheckOutputFile) {
  TempDir dir;
  std::string input = dir.path("in.npy"), alias = dir.path("alias.npy");
  writeBytes(input, "data");
  ASSERT_EQ(link(input.c_str(), alias.c_str()), 0);
  EXPECT_DPC_ERROR(checkOutputFile(alias, "checkpoint", {input}),
                   "refusing to write checkpoint '" + alias +
                       "': it is the input '" + input + "'");
  EXPECT_DPC_ERROR(checkOutputFile(dir.path("no/dir/c"), "trace"),
                   "cannot write trace '" + dir.path("no/dir/c") +
                       "': the directory '" + dir.path("no/dir") +
                       "' does not exist");
  EXPECT_DPC_ERROR(checkOutputFile("", "checkpoint"), "the file name is empty");
  checkOutputFile(dir.path("new.safetensors"), "checkpoint", {input});
  checkOutputFile(input, "checkpoint", {dir.path("other")});
  EXPECT_EQ(countFiles(dir.str()), 2u); // the probes are gone
}

TEST(SafetensorsTest, InterruptedWriteLeavesNoTemporary) {
  TempDir dir;
  std::string p = dir.path("c.safetensors");
  pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    // Killed halfway through the write, as by Ctrl-C or mpirun's SIGTERM.
    writeFileAtomically(p, "checkpoint", [](int fd) {
      writeAll(fd, "half", 4);
      std::raise(SIGTERM);
      return true;
    });
    _exit(0); // not reached
  }
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFSIGNALED(status));
  EXPECT_EQ(WTERMSIG(status), SIGTERM);
  EXPECT_EQ(countFiles(dir.str()), 0u); // neither the file nor a *.tmp.*
}

} // namespace
