// The CUDA runtime's own occupancy answer for the step's kernels, looked up by name:
// cudaOccupancyMaxActiveBlocksPerMultiprocessor and the attributes the loaded binary really has.
#pragma once
#include <cstring>

struct NamedKernel {
  const char* name;
  const void* fn;
};

inline const NamedKernel* step_kernels(int* count) {
  static const NamedKernel table[] = {
      {"copy_kernel", reinterpret_cast<const void*>(copy_kernel)},
      {"copy_strided_kernel", reinterpret_cast<const void*>(copy_strided_kernel)},
      {"transpose_naive_kernel", reinterpret_cast<const void*>(transpose_naive_kernel)},
      {"transpose_smem_kernel", reinterpret_cast<const void*>(transpose_smem_kernel<1>)},
      {"matmul_naive_kernel", reinterpret_cast<const void*>(matmul_naive_kernel)},
      {"matmul_tiled_kernel", reinterpret_cast<const void*>(matmul_tiled_kernel<MATMUL_TILE>)},
      {"matmul_regtile_kernel",
       reinterpret_cast<const void*>(matmul_regtile_kernel<RT_BM, RT_BN, RT_BK, RT_TM, RT_TN>)},
      {"reduce_v1", reinterpret_cast<const void*>(reduce_v1)}, {"reduce_v2", reinterpret_cast<const void*>(reduce_v2)},
      {"reduce_v3", reinterpret_cast<const void*>(reduce_v3)}, {"reduce_v4", reinterpret_cast<const void*>(reduce_v4)},
      {"reduce_v5", reinterpret_cast<const void*>(reduce_v5)}, {"reduce_v6", reinterpret_cast<const void*>(reduce_v6)},
      {"reduce_v7", reinterpret_cast<const void*>(reduce_v7)},
  };
  *count = sizeof(table) / sizeof(table[0]);
  return table;
}

inline const void* find_kernel(const char* name) {
  int count = 0;
  const NamedKernel* table = step_kernels(&count);
  for (int i = 0; i < count; ++i)
    if (std::strcmp(table[i].name, name) == 0) return table[i].fn;
  return nullptr;
}
