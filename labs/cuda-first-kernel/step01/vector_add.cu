// vector_add: c = a + b for n float32 values.
// Step 1: a plain CPU loop. One thread does all n additions, one after another.
// Usage: vector_add N a.bin b.bin c.bin   (raw float32 files; see dlc_io.h)
#include "dlc_io.h"

// The loop body is independent for every i: nothing in iteration i needs iteration i-1.
// That independence is what a GPU will exploit.
void vector_add_cpu(const float* a, const float* b, float* c, size_t n) {
  for (size_t i = 0; i < n; ++i) c[i] = a[i] + b[i];
}

int main(int argc, char** argv) {
  if (argc != 5) {
    std::fprintf(stderr, "usage: %s N a.bin b.bin c.bin\n", argv[0]);
    return 2;
  }
  size_t n = parse_size(argv[1]);
  std::vector<float> a = read_floats(argv[2], n), b = read_floats(argv[3], n), c(n);

  vector_add_cpu(a.data(), b.data(), c.data(), n);

  write_floats(argv[4], c.data(), n);
  return 0;
}
