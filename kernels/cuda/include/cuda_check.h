// CUDA_CHECK: wrap every CUDA runtime call; CUDA_CHECK_LAUNCH(): call right after every kernel launch.
// A CUDA call that fails returns an error code and carries on; unchecked, the error surfaces
// many calls later (or never, and the output is silently garbage). These stop at the first one.
#pragma once
#include <cstdio>
#include <cstdlib>
#include <cuda_runtime.h>

#define CUDA_CHECK(call)                                                              \
  do {                                                                                \
    cudaError_t err_ = (call);                                                        \
    if (err_ != cudaSuccess) {                                                        \
      std::fprintf(stderr, "CUDA error %s (%d) at %s:%d: %s\n  in: %s\n",             \
                   cudaGetErrorName(err_), static_cast<int>(err_), __FILE__, __LINE__, \
                   cudaGetErrorString(err_), #call);                                  \
      std::exit(1);                                                                   \
    }                                                                                 \
  } while (0)

// A launch reports bad configurations (too many threads, too much shared memory) through
// cudaGetLastError; faults inside the kernel only show up when we wait for it.
#define CUDA_CHECK_LAUNCH()                    \
  do {                                         \
    CUDA_CHECK(cudaGetLastError());            \
    CUDA_CHECK(cudaDeviceSynchronize());       \
  } while (0)
