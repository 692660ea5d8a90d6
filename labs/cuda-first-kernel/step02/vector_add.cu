// vector_add: c = a + b for n float32 values.
// Step 2: the loop body becomes a kernel; 256 GPU threads share the loop.
// Usage: vector_add N a.bin b.bin c.bin   (raw float32 files; see dlc_io.h)
#include <cstring>

#include "cuda_check.h"
#include "dlc_io.h"

// __global__: runs on the GPU, launched from the host. Every thread runs this same body;
// threadIdx.x says which thread it is. Thread t takes i = t, t + blockDim.x, t + 2*blockDim.x, ...
__global__ void vector_add(const float* a, const float* b, float* c, size_t n) {
  for (size_t i = threadIdx.x; i < n; i += blockDim.x) c[i] = a[i] + b[i];
}

int main(int argc, char** argv) {
  if (argc != 5) {
    std::fprintf(stderr, "usage: %s N a.bin b.bin c.bin\n", argv[0]);
    return 2;
  }
  size_t n = parse_size(argv[1]);
  std::vector<float> a = read_floats(argv[2], n), b = read_floats(argv[3], n), c(n);

  // Managed memory: one pointer valid on host and device; the driver migrates pages on demand.
  // (Step 3 makes the two memories and the copies between them explicit.)
  float *m_a, *m_b, *m_c;
  CUDA_CHECK(cudaMallocManaged(&m_a, n * sizeof(float)));
  CUDA_CHECK(cudaMallocManaged(&m_b, n * sizeof(float)));
  CUDA_CHECK(cudaMallocManaged(&m_c, n * sizeof(float)));
  std::memcpy(m_a, a.data(), n * sizeof(float));
  std::memcpy(m_b, b.data(), n * sizeof(float));

  // <<<blocks, threads per block>>>: one block of 256 threads. The launch returns at once;
  // CUDA_CHECK_LAUNCH reports a bad launch and waits for the kernel before the host reads m_c.
  vector_add<<<1, 256>>>(m_a, m_b, m_c, n);
  CUDA_CHECK_LAUNCH();
  std::memcpy(c.data(), m_c, n * sizeof(float));

  CUDA_CHECK(cudaFree(m_a));
  CUDA_CHECK(cudaFree(m_b));
  CUDA_CHECK(cudaFree(m_c));
  write_floats(argv[4], c.data(), n);
  return 0;
}
