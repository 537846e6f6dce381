//===- dpc_run_test.cpp - The dpc-run tool, single-process and under mpirun
//-===//

#include "test_util.h"

#include <cmath>
#include <sstream>

#include <sys/wait.h>
#include <unistd.h>

namespace {

using namespace dpc;
using namespace dpc::test;

struct RunResult {
  int exitCode = -1;
  std::string out, err;
};

/// Runs a shell command, capturing stdout and stderr separately.
RunResult runCommand(const std::string &command, const TempDir &dir) {
  std::string errFile = dir.path("stderr.txt");
  RunResult r;
  FILE *pipe = popen((command + " 2>'" + errFile + "'").c_str(), "r");
  if (!pipe)
    return r;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof(buf), pipe)) > 0)
    r.out.append(buf, n);
  int status = pclose(pipe);
  r.exitCode = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  r.err = readBytes(errFile);
  return r;
}

std::vector<std::string> linesWith(const std::string &text,
                                   const std::string &needle) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);)
    if (line.find(needle) != std::string::npos)
      lines.push_back(line);
  return lines;
}

/// Expects exit code 1 and exactly one stderr line, the error.
void expectError(const RunResult &r, const std::string &needle) {
  EXPECT_EQ(r.exitCode, 1) << r.err;
  EXPECT_EQ(r.err.rfind("dpc-run: error: ", 0), 0u) << r.err;
  EXPECT_NE(r.err.find(needle), std::string::npos) << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
}

/// `samples` samples of the test modules' linear regression data; y is
/// written as f64 to exercise the conversion.
void writeData(const TempDir &dir, int samples,
               const std::string &suffix = "") {
  std::vector<float> x(samples * 4);
  std::vector<double> y(samples);
  for (int i = 0; i < samples; ++i) {
    y[i] = 0;
    for (int j = 0; j < 4; ++j) {
      x[i * 4 + j] = std::cos(static_cast<float>(3 * i + j));
      y[i] += x[i * 4 + j] * (j - 1.5);
    }
  }
  writeNpy(dir.path("x" + suffix + ".npy"), "<f4",
           "(" + std::to_string(samples) + ", 4)", x);
  writeNpy(dir.path("y" + suffix + ".npy"), "<f8",
           "(" + std::to_string(samples) + ", 1)", y);
}

std::string dpcRun(const std::string &module, const TempDir &dir,
                   const std::string &extra) {
  return std::string(DPC_RUN_PATH) + " " + module +
         " --data x=" + dir.path("x.npy") + " --data y=" + dir.path("y.npy") +
         " " + extra;
}

std::vector<float> checkpointWeights(const std::string &path) {
  SafetensorsFile f = readSafetensors(path);
  const HostTensor &w = f.tensors.at("w");
  return std::vector<float>(w.data<float>(), w.data<float>() + 4);
}

TEST(DpcRunTest, HelpExplainsEveryFlag) {
  TempDir dir;
  RunResult r = runCommand(std::string(DPC_RUN_PATH) + " --help", dir);
  EXPECT_EQ(r.exitCode, 0);
  EXPECT_EQ(r.err, "");
  for (const char *flag :
       {"--data", "--steps", "--log-every", "--load-checkpoint",
        "--save-checkpoint", "--backend", "--help"})
    EXPECT_NE(r.out.find(flag), std::string::npos) << flag;
}

TEST(DpcRunTest, TrainsAndLogs) {
  TempDir dir;
  writeData(dir, 20); // two batches of 8; 4 samples dropped per epoch
  std::string ckpt = dir.path("c.safetensors");
  RunResult r = runCommand(
      dpcRun(DPC_TEST_MODULE, dir, "--steps 25 --save-checkpoint " + ckpt),
      dir);
  ASSERT_EQ(r.exitCode, 0) << r.err;
  EXPECT_EQ(r.err, "");
  std::vector<std::string> steps = linesWith(r.out, "  loss ");
  ASSERT_EQ(steps.size(), 3u) << r.out;
  EXPECT_EQ(steps[0].rfind("step 10/25  loss ", 0), 0u) << steps[0];
  EXPECT_NE(steps[0].find("  samples/s "), std::string::npos);
  EXPECT_EQ(steps[2].rfind("step 25/25  loss ", 0), 0u) << steps[2];
  EXPECT_EQ(linesWith(r.out, "done: 25 steps on 1 rank").size(), 1u) << r.out;
  EXPECT_EQ(linesWith(r.out, "saved checkpoint").size(), 1u) << r.out;

  // The same run through the API: batches 0, 1, 0, 1, ... of 8 samples.
  Session s = Session::load(DPC_TEST_MODULE);
  HostTensor x = readNpy(dir.path("x.npy"), DType::F32);
  HostTensor y = readNpy(dir.path("y.npy"), DType::F32);
  for (int i = 0; i < 25; ++i) {
    int b = i % 2;
    s.step({x.data<float>() + b * 8 * 4, y.data<float>() + b * 8});
  }
  EXPECT_EQ(checkpointWeights(ckpt),
            std::vector<float>(s.parameterData("w"), s.parameterData("w") + 4));
}

TEST(DpcRunTest, ResumingEqualsOneRun) {
  TempDir dir;
  writeData(dir, 20);
  std::string a = dir.path("a.safetensors"), b = dir.path("b.safetensors"),
              c = dir.path("c.safetensors");
  std::string module = DPC_TEST_MODULE_MOMENTUM;
  ASSERT_EQ(
      runCommand(dpcRun(module, dir, "--steps 7 --save-checkpoint " + a), dir)
          .exitCode,
      0);
  RunResult r = runCommand(dpcRun(module, dir,
                                  "--steps 6 --log-every 3 "
                                  "--load-checkpoint " +
                                      a + " --save-checkpoint " + b),
                           dir);
  ASSERT_EQ(r.exitCode, 0) << r.err;
  EXPECT_EQ(linesWith(r.out, "saved checkpoint " + b + " (step 13)").size(), 1u)
      << r.out;
  ASSERT_EQ(
      runCommand(dpcRun(module, dir, "--steps 13 --save-checkpoint " + c), dir)
          .exitCode,
      0);
  EXPECT_EQ(checkpointWeights(b), checkpointWeights(c));
}

TEST(DpcRunTest, ReportsErrorsOnOneLine) {
  TempDir dir;
  writeData(dir, 20);
  std::string run = DPC_RUN_PATH;
  std::string m = DPC_TEST_MODULE;
  std::string x = dir.path("x.npy"), y = dir.path("y.npy");

  expectError(runCommand(run, dir), "no model given");
  expectError(
      runCommand(run + " " + m + " --data x=" + x + " --data y=" + y, dir),
      "--steps is required");
  expectError(runCommand(dpcRun(m, dir, "--steps 1 --frobnicate"), dir),
              "unknown option '--frobnicate'");
  expectError(runCommand(dpcRun(m, dir, "--steps -3"), dir),
              "--steps expects an integer of at least 0, got '-3'");
  expectError(runCommand(dpcRun(m, dir, "--steps 1 --log-every 0"), dir),
              "--log-every expects an integer of at least 1");
  expectError(runCommand(dpcRun(m, dir, "--steps 1 --backend tpu"), dir),
              "--backend expects cpu, cuda or auto, got 'tpu'");
  if (!backendAvailable(Backend::Cuda))
    expectError(runCommand(dpcRun(m, dir, "--steps 1 --backend cuda"), dir),
                "--backend cuda: this dpc-run was built without the cuda "
                "backend; use --backend cpu");
  else if (cudaDeviceCount() == 0)
    expectError(runCommand(dpcRun(m, dir, "--steps 1 --backend cuda"), dir),
                "--backend cuda: no CUDA device found");
  expectError(runCommand(dpcRun(m, dir, "--steps 1 --data z=" + x), dir),
              "has no input or label named 'z' (it has: x, y)");
  expectError(runCommand(dpcRun(m, dir, "--steps 1 --data x=" + x), dir),
              "--data x is given twice");
  expectError(runCommand(run + " " + m + " --data x=" + x + " --steps 1", dir),
              "no --data for label 'y'");
  expectError(runCommand(run + " " + m + " --data=x=" + x + " --data y=" + y +
                             " --steps=1 --data y=" + y,
                         dir),
              "--data y is given twice");
  expectError(runCommand(dpcRun(DPC_TEST_MODULE_WS2, dir, "--steps 1"), dir),
              "was compiled for --world-size 2 but runs on 1 rank");
  expectError(runCommand(dpcRun(m, dir,
                                "--steps 1 --load-checkpoint " +
                                    dir.path("none.safetensors")),
                         dir),
              "cannot open '" + dir.path("none.safetensors") + "'");

  // Data that does not fit the model.
  writeNpy(dir.path("x3.npy"), "<f4", "(20, 3)", std::vector<float>(60));
  expectError(runCommand(run + " " + m + " --data x=" + dir.path("x3.npy") +
                             " --data y=" + y + " --steps 1",
                         dir),
              "x3.npy: samples have shape [3], but input 'x' of " + m +
                  " needs [4] (compiled shape [8, 4] without the batch "
                  "dimension)");
  writeNpy(dir.path("y19.npy"), "<f4", "(19, 1)", std::vector<float>(19));
  expectError(runCommand(run + " " + m + " --data x=" + x +
                             " --data y=" + dir.path("y19.npy") + " --steps 1",
                         dir),
              "y19.npy has 19 samples but " + x + " has 20");
  writeNpy(dir.path("yi.npy"), "<i8", "(20, 1)", std::vector<int64_t>(20));
  expectError(runCommand(run + " " + m + " --data x=" + x +
                             " --data y=" + dir.path("yi.npy") + " --steps 1",
                         dir),
              "holds '<i8' data, which cannot be used as f32");
  writeData(dir, 5, "5");
  expectError(runCommand(run + " " + m + " --data x=" + dir.path("x5.npy") +
                             " --data y=" + dir.path("y5.npy") + " --steps 1",
                         dir),
              "has 5 samples, fewer than one global batch (1 ranks x 8 = 8)");
}

//===----------------------------------------------------------------------===//
// Under mpirun
//===----------------------------------------------------------------------===//

std::string mpirun(int ranks) {
  std::string cmd = std::string("timeout 120 ") + MPIRUN_PATH + " -np " +
                    std::to_string(ranks) + " --oversubscribe";
  if (geteuid() == 0)
    cmd += " --allow-run-as-root";
  return cmd + " ";
}

class DpcRunMpiTest : public ::testing::Test {
protected:
  void SetUp() override {
    if (std::string(MPIRUN_PATH).empty() || access(MPIRUN_PATH, X_OK) != 0)
      GTEST_SKIP() << "skipped: no mpirun";
  }
};

TEST_F(DpcRunMpiTest, TwoRanksMatchOneRankWithTheGlobalBatch) {
  TempDir dir;
  writeData(dir, 40); // two global batches of 16 (8 per rank); 8 dropped
  std::string two = dir.path("two.safetensors"),
              one = dir.path("one.safetensors");
  RunResult r =
      runCommand(mpirun(2) + dpcRun(DPC_TEST_MODULE_WS2, dir,
                                    "--steps 12 --save-checkpoint " + two),
                 dir);
  ASSERT_EQ(r.exitCode, 0) << r.out << r.err;
  EXPECT_EQ(linesWith(r.out, "done: 12 steps on 2 ranks").size(), 1u) << r.out;
  EXPECT_EQ(linesWith(r.out, "step 10/12").size(), 1u) << r.out;
  ASSERT_EQ(runCommand(dpcRun(DPC_TEST_MODULE_B16, dir,
                              "--steps 12 --save-checkpoint " + one),
                       dir)
                .exitCode,
            0);
  // DDP: averaging the per-rank mean gradients equals the gradient of the
  // mean over the global batch, up to rounding.
  std::vector<float> a = checkpointWeights(two), b = checkpointWeights(one);
  for (int j = 0; j < 4; ++j)
    EXPECT_NEAR(a[j], b[j], 1e-6) << j;
  EXPECT_EQ(
      readSafetensors(two).tensors.at("optimizer.step").data<int64_t>()[0], 12);
}

TEST_F(DpcRunMpiTest, BuffersFollowRankZero) {
  // DDP's broadcast_buffers: before every step rank 0's buffers overwrite
  // the others'. The buffer module adds b to its loss, then sets b to its
  // rank's first input value; its parameters train exactly like the plain
  // module's. So from step 2 on, the loss averaged over the ranks exceeds
  // the plain module's by rank 0's first input value of the previous step
  // (both ranks hold it), not by the mean of the ranks' values.
  TempDir dir;
  writeData(dir, 40); // global batches of 16: samples 0 and 16 start rank 0's
  auto losses = [&](const std::string &module) {
    RunResult r = runCommand(
        mpirun(2) + dpcRun(module, dir, "--steps 4 --log-every 1"), dir);
    EXPECT_EQ(r.exitCode, 0) << r.out << r.err;
    std::vector<double> values;
    for (const std::string &line : linesWith(r.out, "  loss "))
      values.push_back(std::stod(line.substr(line.find("loss ") + 5)));
    return values;
  };
  std::vector<double> plain = losses(DPC_TEST_MODULE_WS2);
  std::vector<double> buffered = losses(DPC_TEST_MODULE_BUFFER);
  ASSERT_EQ(plain.size(), 4u);
  ASSERT_EQ(buffered.size(), 4u);
  EXPECT_NEAR(buffered[0], plain[0], 2e-6); // b starts at 0 on every rank
  for (int step = 2; step <= 4; ++step) {
    int previousBatch = (step - 2) % 2;
    double rank0First = std::cos(static_cast<float>(3 * 16 * previousBatch));
    EXPECT_NEAR(buffered[step - 1] - plain[step - 1], rank0First, 2e-6)
        << "step " << step;
  }
}

TEST_F(DpcRunMpiTest, ResumeUnderMpi) {
  TempDir dir;
  writeData(dir, 40);
  std::string a = dir.path("a.safetensors"), b = dir.path("b.safetensors"),
              c = dir.path("c.safetensors");
  std::string m = DPC_TEST_MODULE_WS2;
  ASSERT_EQ(
      runCommand(mpirun(2) + dpcRun(m, dir, "--steps 3 --save-checkpoint " + a),
                 dir)
          .exitCode,
      0);
  ASSERT_EQ(runCommand(mpirun(2) + dpcRun(m, dir,
                                          "--steps 2 --load-checkpoint " + a +
                                              " --save-checkpoint " + b),
                       dir)
                .exitCode,
            0);
  ASSERT_EQ(
      runCommand(mpirun(2) + dpcRun(m, dir, "--steps 5 --save-checkpoint " + c),
                 dir)
          .exitCode,
      0);
  EXPECT_EQ(checkpointWeights(b), checkpointWeights(c));
}

TEST_F(DpcRunMpiTest, ErrorsAreReportedOnceWithoutHanging) {
  TempDir dir;
  writeData(dir, 40);
  RunResult r = runCommand(
      mpirun(3) + dpcRun(DPC_TEST_MODULE_WS2, dir, "--steps 1"), dir);
  EXPECT_NE(r.exitCode, 0);
  std::vector<std::string> errors = linesWith(r.err, "dpc-run: error: ");
  ASSERT_EQ(errors.size(), 1u) << r.err;
  EXPECT_NE(
      errors[0].find("was compiled for --world-size 2 but runs on 3 ranks"),
      std::string::npos);

  writeNpy(dir.path("x3.npy"), "<f4", "(40, 3)", std::vector<float>(120));
  r = runCommand(mpirun(2) + std::string(DPC_RUN_PATH) + " " +
                     DPC_TEST_MODULE_WS2 + " --data x=" + dir.path("x3.npy") +
                     " --data y=" + dir.path("y.npy") + " --steps 1",
                 dir);
  EXPECT_NE(r.exitCode, 0);
  errors = linesWith(r.err, "dpc-run: error: ");
  ASSERT_EQ(errors.size(), 1u) << r.err;
  EXPECT_NE(errors[0].find("samples have shape [3]"), std::string::npos);

  writeData(dir, 12, "12");
  r = runCommand(mpirun(2) + std::string(DPC_RUN_PATH) + " " +
                     DPC_TEST_MODULE_WS2 + " --data x=" + dir.path("x12.npy") +
                     " --data y=" + dir.path("y12.npy") + " --steps 1",
                 dir);
  errors = linesWith(r.err, "dpc-run: error: ");
  ASSERT_EQ(errors.size(), 1u) << r.err;
  EXPECT_NE(errors[0].find("fewer than one global batch (2 ranks x 8 = 16)"),
            std::string::npos);
}

} // namespace
