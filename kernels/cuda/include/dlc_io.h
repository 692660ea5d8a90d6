// Raw float32 files shared by the standalone lab programs and their Python tests:
// Python writes random inputs with numpy's tofile, the program writes its output the same way.
#pragma once
#include <cstdio>
#include <cstdlib>
#include <vector>

inline std::vector<float> read_floats(const char* path, size_t n) {
  std::vector<float> v(n);
  FILE* f = std::fopen(path, "rb");
  if (!f || std::fread(v.data(), sizeof(float), n, f) != n) {
    std::fprintf(stderr, "error: cannot read %zu floats from %s\n", n, path);
    std::exit(2);
  }
  std::fclose(f);
  return v;
}

inline void write_floats(const char* path, const float* data, size_t n) {
  FILE* f = std::fopen(path, "wb");
  if (!f || std::fwrite(data, sizeof(float), n, f) != n) {
    std::fprintf(stderr, "error: cannot write %zu floats to %s\n", n, path);
    std::exit(2);
  }
  std::fclose(f);
}

inline size_t parse_size(const char* text) {
  char* end = nullptr;
  long long v = std::strtoll(text, &end, 10);
  if (*text == '\0' || *end != '\0' || v <= 0) {
    std::fprintf(stderr, "error: '%s' is not a positive integer\n", text);
    std::exit(2);
  }
  return static_cast<size_t>(v);
}
