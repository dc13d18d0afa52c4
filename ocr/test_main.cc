// ocr/test_main.cc: main() of the ocr tests. Tesseract's OpenMP runtime
// reads OMP_THREAD_LIMIT once, when it is loaded (see ocr.h), so, like the
// custodia binary, the test restarts itself once with the limit set: the
// tests then measure what custodia's workers run.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>

int main(int argc, char** argv) {
  if (std::getenv("OMP_THREAD_LIMIT") == nullptr) {
    ::setenv("OMP_THREAD_LIMIT", "1", 1);
    ::execv("/proc/self/exe", argv);
    // Only reached when the re-exec failed: carry on, slower but correct.
  }
  ::testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
