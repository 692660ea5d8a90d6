// warps: which threads of a 2D block form a warp, and which branches split a warp.
// Usage: warps BX BY BRANCH out.bin   (one block of BX x BY threads; BRANCH 0, 1 or 2, see below)
// out.bin gets 4 uint32 per thread, in linear thread order: lane, warp, present, ballot.
#include <cstdint>

#include "cuda_check.h"
#include "dlc_io.h"

// The hardware cuts a block into warps of 32 threads by linear thread id, x fastest:
// tid = threadIdx.x + threadIdx.y * blockDim.x; warp = tid / 32; lane = tid % 32.
// A warp issues one instruction for all its lanes; when lanes disagree on a branch, the
// warp runs both sides one after the other with part of its lanes masked off (divergence).
__global__ void warp_lanes(uint32_t* out, int branch) {
  uint32_t tid = threadIdx.x + threadIdx.y * blockDim.x;
  uint32_t lane;
  asm volatile("mov.u32 %0, %%laneid;" : "=r"(lane));  // the hardware's own lane number
  // The lanes of this warp that hold a thread, from the block's shape: every warp is full except
  // perhaps the last. A *_sync mask must name lanes that all reach the call; __activemask() would
  // only say which lanes happen to be executing together right now, which proves nothing.
  uint32_t block_threads = blockDim.x * blockDim.y;
  uint32_t lanes_here = min(32u, block_threads - (tid / 32) * 32);
  uint32_t present = lanes_here == 32 ? 0xFFFFFFFFu : (1u << lanes_here) - 1u;
  bool take = branch == 0   ? threadIdx.x % 2 == 0      // odd/even lanes: every warp diverges
              : branch == 1 ? (tid / 32) % 2 == 0       // whole warps agree: no divergence
                            : threadIdx.y % 2 == 0;     // depends on the block's shape
  uint32_t ballot = __ballot_sync(present, take);       // bit k set: lane k takes the branch
  out[4 * tid + 0] = lane;
  out[4 * tid + 1] = tid / 32;
  out[4 * tid + 2] = present;
  out[4 * tid + 3] = ballot;
}

int main(int argc, char** argv) {
  if (argc != 5) {
    std::fprintf(stderr, "usage: %s BX BY BRANCH out.bin\n", argv[0]);
    return 2;
  }
  size_t bx = parse_size(argv[1]), by = parse_size(argv[2]);
  int branch = std::atoi(argv[3]);
  if (bx * by > 1024 || branch < 0 || branch > 2) {
    std::fprintf(stderr, "error: need BX * BY <= 1024 threads and BRANCH in 0..2\n");
    return 2;
  }
  size_t n = 4 * bx * by;
  uint32_t* d_out;
  CUDA_CHECK(cudaMalloc(&d_out, n * sizeof(uint32_t)));
  CUDA_CHECK(cudaMemset(d_out, 0xFF, n * sizeof(uint32_t)));  // poison: a lane is never 0xFFFFFFFF
  warp_lanes<<<1, dim3(bx, by)>>>(d_out, branch);
  CUDA_CHECK_LAUNCH();
  std::vector<uint32_t> out(n);
  CUDA_CHECK(cudaMemcpy(out.data(), d_out, n * sizeof(uint32_t), cudaMemcpyDeviceToHost));
  CUDA_CHECK(cudaFree(d_out));
  FILE* f = std::fopen(argv[4], "wb");
  if (!f || std::fwrite(out.data(), sizeof(uint32_t), n, f) != n) {
    std::fprintf(stderr, "error: cannot write %s\n", argv[4]);
    return 2;
  }
  std::fclose(f);
  return 0;
}
