// Self-test of cuda_cpu.h: small CUDA-style kernels run on CPU fibers. Build and run with
// scripts/cuda-cpu-selftest.sh (g++ -std=c++17 -O2 -pthread). Exit status 0 when every check passes.
#define FLUXMINER_CUDA_CPU 1
#include "cuda_cpu.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

// ================================ kernels (CUDA style) ===========================================
#define FULL 0xFFFFFFFFu

// Inclusive block prefix sum (Hillis-Steele). skip = k drops barrier k (1, 2 or 3) to make a race.
__global__ void scan_kernel(const unsigned* in, unsigned* out, unsigned* sums, int skip) {
  SHARED_ARRAY(unsigned, s_scan, 1024);
  const unsigned t = threadIdx.x, n = blockDim.x, g = blockIdx.x * n + t;
  s_scan[t] = in[g];
  if (skip != 1) __syncthreads();
  for (unsigned off = 1; off < n; off <<= 1) {
    const unsigned v = t >= off ? (unsigned)s_scan[t - off] : 0u;
    if (skip != 2) __syncthreads();
    s_scan[t] += v;
    if (skip != 3) __syncthreads();
  }
  out[g] = s_scan[t];
  if (t == n - 1) sums[blockIdx.x] = s_scan[t];
}

// Tree reduction of a power-of-two block.
__global__ void reduce_kernel(const unsigned* in, unsigned* sums, int skip) {
  SHARED_ARRAY(unsigned, s_red, 1024);
  const unsigned t = threadIdx.x;
  s_red[t] = in[blockIdx.x * blockDim.x + t];
  if (skip != 1) __syncthreads();
  for (unsigned s = blockDim.x / 2; s > 0; s >>= 1) {
    if (t < s) s_red[t] += s_red[t + s];
    if (skip != 2) __syncthreads();
  }
  if (t == 0) sums[blockIdx.x] = s_red[0];
}

__global__ void oob_kernel(unsigned* out) {
  SHARED_ARRAY(unsigned, s_small, 64);
  s_small[threadIdx.x + 1] = threadIdx.x;  // thread 63 writes s_small[64]
  __syncthreads();
  out[threadIdx.x] = s_small[threadIdx.x];
}

// Warp operations; 12 results per thread.
__global__ void warp_kernel(unsigned* out) {
  const unsigned lane = threadIdx.x & 31, v = threadIdx.x * 7 + 3;
  unsigned* o = out + 12 * threadIdx.x;
  unsigned s = v;
  for (int m = 16; m > 0; m >>= 1) s += __shfl_xor_sync(FULL, s, m);
  o[0] = s;
  unsigned sc = v;
  for (unsigned d = 1; d < 32; d <<= 1) {
    const unsigned y = __shfl_up_sync(FULL, sc, d);
    if (lane >= d) sc += y;
  }
  o[1] = sc;
  o[2] = __ballot_sync(FULL, lane % 3 == 0);
  o[3] = __shfl_sync(FULL, v, 5);
  o[4] = __shfl_down_sync(FULL, v, 3);
  o[5] = __shfl_sync(FULL, v, 2, 8);
  o[6] = __shfl_xor_sync(FULL, v, 8, 8);
  o[7] = __shfl_up_sync(FULL, v, 2, 16);
  o[8] = __any_sync(FULL, lane == 17) | __all_sync(FULL, lane < 32) << 1 | __all_sync(FULL, lane != 4) << 2;
  const unsigned long long big = __shfl_xor_sync(FULL, (unsigned long long)v << 33 | 1ull, 1);
  o[9] = (unsigned)(big >> 33);
  o[10] = __activemask();
  const unsigned half = lane < 16 ? 0x0000FFFFu : 0xFFFF0000u;  // two half-warp groups
  o[11] = __ballot_sync(half, lane & 1);
}

// Warp-synchronous shared memory: ordered by __syncwarp (or not, when sync == 0).
__global__ void warp_shared_kernel(unsigned* out, int sync) {
  SHARED_ARRAY(unsigned, s_warp, 256);
  const unsigned t = threadIdx.x;
  s_warp[t] = t * 3;
  if (sync) __syncwarp();
  out[t] = s_warp[t ^ 1];
}

__global__ void global_atomics_kernel(unsigned* cnt, unsigned long long* sum64, unsigned* mx,
                                      int* mn, unsigned* bits, unsigned* cas_cnt) {
  const unsigned g = blockIdx.x * blockDim.x + threadIdx.x;
  atomicAdd(cnt, 1u);
  atomicAdd(sum64, (unsigned long long)g << 20);
  atomicMax(mx, g);
  atomicMin(mn, -(int)g);
  atomicOr(bits + (g & 7), 1u << (g % 32));
  unsigned old = *cas_cnt, seen;
  while ((seen = atomicCAS(cas_cnt, old, old + 1)) != old) old = seen;
}

// Shared counter updated atomically by every thread (mode 0), or plainly by thread 0 (mode 1: race).
__global__ void shared_atomic_kernel(unsigned* out, int mode) {
  SHARED_ARRAY(unsigned, s_cnt, 2);
  const unsigned t = threadIdx.x;
  if (t == 0) { s_cnt[0] = 0; s_cnt[1] = 0; }
  __syncthreads();
  if (mode == 1 && t == 0) s_cnt[0] = 5;
  atomicAdd(&s_cnt[0], 1);
  atomicMax(&s_cnt[1], t);
  __syncthreads();
  if (t == 0) { out[2 * blockIdx.x] = s_cnt[0]; out[2 * blockIdx.x + 1] = s_cnt[1]; }
}

__global__ void diverge_kernel(unsigned* out) {  // half the block waits at another barrier
  SHARED_ARRAY(unsigned, s_div, 256);
  s_div[threadIdx.x] = threadIdx.x;
  if (threadIdx.x < 128) __syncthreads();
  __syncthreads();
  out[threadIdx.x] = s_div[255 - threadIdx.x];
}

__global__ void exit_half_kernel(unsigned* out) {  // legal: exited threads count as arrived
  SHARED_ARRAY(unsigned, s_half, 256);
  if (threadIdx.x >= 128) return;
  s_half[threadIdx.x] = threadIdx.x;
  __syncthreads();
  out[threadIdx.x] = s_half[127 - threadIdx.x];
}

__global__ void lane_exit_kernel(unsigned* out) {  // lane 3 leaves before a full-warp shuffle
  if ((threadIdx.x & 31) == 3) return;
  out[threadIdx.x] = __shfl_xor_sync(FULL, threadIdx.x, 1);
}

__global__ void view_kernel(unsigned* out, int misalign) {
  SHARED_ARRAY(unsigned, s_view, 128);
  const unsigned t = threadIdx.x;
  SHARED_AS(uint2, s_view, 2 * t) = make_uint2(t, t * 10);
  __syncthreads();
  const uint2 v = SHARED_AS(uint2, s_view, 2 * ((t + 1) & 63) + (misalign ? 1 : 0));
  out[2 * t] = v.x;
  out[2 * t + 1] = v.y;
}

__global__ void poison_kernel(unsigned* out) {  // forgets to initialise shared memory
  SHARED_ARRAY(unsigned, s_junk, 32);
  out[threadIdx.x] = s_junk[threadIdx.x];
}

__global__ void index_kernel(unsigned* out) {  // 3-D blocks and grids
  const unsigned tl = threadIdx.x + blockDim.x * (threadIdx.y + blockDim.y * threadIdx.z);
  const unsigned bl = blockIdx.x + gridDim.x * (blockIdx.y + gridDim.y * blockIdx.z);
  out[bl * blockDim.x * blockDim.y * blockDim.z + tl] =
      threadIdx.x | threadIdx.y << 8 | threadIdx.z << 12 | blockIdx.x << 16 | blockIdx.y << 20 |
      blockIdx.z << 24;
}

__device__ __noinline__ unsigned deep(unsigned d) {  // 512-byte frames, a barrier in each
  volatile unsigned char buf[512];
  buf[d & 511] = (unsigned char)d;
  __syncthreads();
  if (d == 0) return buf[0];
  return deep(d - 1) + buf[(d * 7) & 511];
}
__global__ void deep_kernel(unsigned* out, unsigned depth) { out[threadIdx.x] = deep(depth); }

__device__ __forceinline__ unsigned mix(unsigned x) { return (x ^ (x >> 15)) * 0x2C1B3C6Du; }

// The timing kernel: four barriers, shared traffic between phases.
__global__ void __launch_bounds__(256) bench_kernel(unsigned* out) {
  SHARED_ARRAY(unsigned, s_a, 256);
  SHARED_ARRAY(unsigned, s_b, 256);
  const unsigned t = threadIdx.x, g = blockIdx.x * 256 + t;
  s_a[t] = mix(g);
  __syncthreads();
  s_b[t] = s_a[t] + s_a[(t + 1) & 255];
  __syncthreads();
  s_a[t] = s_b[t] ^ s_b[255 - t];
  __syncthreads();
  s_b[t] = s_a[t] * 3 + __funnelshift_l(s_a[(t + 17) & 255], s_a[t], t);
  __syncthreads();
  out[g] = s_b[t] + s_b[(t + 128) & 255];
}

SHARED_ARRAY(unsigned, s_ticket, 1);  // namespace scope works too

__global__ void order_kernel(unsigned* out) {  // records the order in which threads run
  if (threadIdx.x == 0) s_ticket[0] = 0;
  __syncthreads();
  out[threadIdx.x] = atomicAdd(&s_ticket[0], 1u);
  __syncthreads();
  out[blockDim.x + threadIdx.x] = atomicAdd(&s_ticket[0], 1u) - blockDim.x;
}

struct ScanArgs { const unsigned* in; unsigned* out; unsigned* sums; int skip; };
__global__ void scan_struct_kernel(ScanArgs a) {
  SHARED_ARRAY(unsigned, s_sx, 256);
  const unsigned t = threadIdx.x;
  s_sx[t] = a.in[blockIdx.x * blockDim.x + t];
  if (a.skip != 1) __syncthreads();
  if (t == 0) {
    unsigned s = 0;
    for (unsigned i = 0; i < blockDim.x; ++i) s += s_sx[i];
    a.sums[blockIdx.x] = s;
  }
}
CUDA_CPU_EXPORT(scan_struct_kernel, ScanArgs)
CUDA_CPU_EXPORT_RUNTIME()

// ==================================== host side =================================================
static int g_failures = 0;
static void report(const char* name, bool ok, const std::string& detail = "") {
  std::printf("%s %s%s%s\n", ok ? "PASS" : "FAIL", name, detail.empty() ? "" : ": ",
              detail.c_str());
  if (!ok) ++g_failures;
}
static std::string err_or(const char* e) { return e ? e : "(no error)"; }
static bool contains(const char* e, const char* what) { return e && std::strstr(e, what); }
static unsigned input_value(unsigned i) { return (i * 2654435761u) >> 20; }
static const unsigned long long kSeeds[5] = {1, 2, 3, 0xDEADBEEF, 0x123456789ABCull};

static void test_scan_reduce() {
  bool ok = true;
  std::string detail;
  const unsigned grids[] = {1, 7, 64}, blocks[] = {32, 256, 1024};
  for (unsigned long long seed : kSeeds)
    for (unsigned gx : grids)
      for (unsigned bx : blocks) {
        cuda_cpu::set_seed(seed);
        const size_t n = size_t(gx) * bx;
        std::vector<unsigned> in(n), out(n, 0), sums(gx, 0), rsums(gx, 0);
        for (size_t i = 0; i < n; ++i) in[i] = input_value(unsigned(i));
        const char* e1 = cuda_cpu::launch(scan_kernel, dim3(gx), dim3(bx), in.data(), out.data(),
                                          sums.data(), 0);
        const char* e2 = e1 ? e1 : cuda_cpu::launch(reduce_kernel, dim3(gx), dim3(bx), in.data(),
                                                    rsums.data(), 0);
        if (e2) { ok = false; detail = e2; continue; }
        for (unsigned b = 0; b < gx; ++b) {
          unsigned acc = 0;
          for (unsigned t = 0; t < bx; ++t) {
            acc += in[b * bx + t];
            if (out[b * bx + t] != acc) ok = false;
          }
          if (sums[b] != acc || rsums[b] != acc) ok = false;
        }
        if (!ok && detail.empty()) detail = "wrong sum, seed " + std::to_string(seed);
      }
  report("(1) block scan + reduction, 5 seeds x grids {1,7,64} x blocks {32,256,1024}", ok, detail);
}

static void test_missing_barrier() {
  struct Case { const char* kernel; int skip; };
  const Case cases[] = {{"scan", 1}, {"scan", 2}, {"scan", 3}, {"reduce", 1}, {"reduce", 2}};
  const unsigned gx = 8, bx = 256, n = gx * bx;
  std::vector<unsigned> in(n), out(n), sums(gx);
  for (unsigned i = 0; i < n; ++i) in[i] = input_value(i);
  std::string detail;
  bool ok = true;
  int wrong_unchecked = 0, runs_unchecked = 0;
  for (const Case& c : cases) {
    int found = 0;
    for (unsigned long long seed : kSeeds) {
      for (int checks = 1; checks >= 0; --checks) {
        cuda_cpu::set_checks(checks != 0);
        cuda_cpu::set_seed(seed);
        const bool scan = c.kernel[0] == 's';
        const char* e = scan ? cuda_cpu::launch(scan_kernel, dim3(gx), dim3(bx), in.data(),
                                                out.data(), sums.data(), c.skip)
                             : cuda_cpu::launch(reduce_kernel, dim3(gx), dim3(bx), in.data(),
                                                sums.data(), c.skip);
        if (checks) {
          if (contains(e, "race on shared array") && contains(e, scan ? "'s_scan'" : "'s_red'")) {
            ++found;
            if (detail.empty()) detail = e;
          }
        } else if (!e) {
          ++runs_unchecked;
          bool right = true;
          for (unsigned b = 0; b < gx; ++b) {
            unsigned acc = 0;
            for (unsigned t = 0; t < bx; ++t) acc += in[b * bx + t];
            right &= sums[b] == acc;
          }
          wrong_unchecked += !right;
        }
      }
    }
    cuda_cpu::set_checks(true);
    if (found != 5) {
      ok = false;
      detail = std::string(c.kernel) + " without barrier " + std::to_string(c.skip) + ": race found for " +
               std::to_string(found) + "/5 seeds";
    }
  }
  report("(2) barrier removed -> race reported for every seed (5 variants x 5 seeds)", ok, detail);
  std::printf("     (checks off: %d of %d runs of the broken kernels gave a wrong sum)\n",
              wrong_unchecked, runs_unchecked);
}

static void test_oob() {
  std::vector<unsigned> out(64);
  const char* e = cuda_cpu::launch(oob_kernel, dim3(3), dim3(64), out.data());
  report("(3) out-of-bounds shared index reported with the array name",
         contains(e, "'s_small'") && contains(e, "index 64 out of bounds"), err_or(e));
}

static void test_warp() {
  const unsigned bx = 96;  // three warps
  std::vector<unsigned> out(12 * bx);
  bool ok = true;
  std::string detail;
  for (unsigned long long seed : kSeeds) {
    cuda_cpu::set_seed(seed);
    const char* e = cuda_cpu::launch(warp_kernel, dim3(2), dim3(bx), out.data());
    if (e) { ok = false; detail = e; break; }
    for (unsigned t = 0; t < bx; ++t) {
      const unsigned lane = t & 31, w0 = t - lane;
      auto v = [&](unsigned l) { return (w0 + l) * 7 + 3; };
      unsigned sum = 0, scan = 0, bal = 0;
      for (unsigned l = 0; l < 32; ++l) sum += v(l);
      for (unsigned l = 0; l <= lane; ++l) scan += v(l);
      for (unsigned l = 0; l < 32; l += 3) bal |= 1u << l;
      const unsigned seg8 = lane & ~7u, x8 = lane ^ 8u, half = lane < 16 ? 0x0000AAAAu : 0xAAAA0000u;
      const unsigned want[12] = {sum, scan, bal, v(5), lane + 3 < 32 ? v(lane + 3) : v(lane),
                                 v(seg8 + 2), x8 <= (seg8 | 7u) ? v(x8) : v(lane),
                                 (lane & 15) >= 2 ? v(lane - 2) : v(lane), 1u | 2u | 0u,
                                 v(lane ^ 1), FULL, half};
      for (int k = 0; k < 12; ++k)
        if (out[12 * t + k] != want[k]) {
          if (ok) detail = "thread " + std::to_string(t) + " result " + std::to_string(k) + ": got " +
                           std::to_string(out[12 * t + k]) + ", want " + std::to_string(want[k]);
          ok = false;
        }
    }
  }
  report("(4) shfl xor/up/down/idx (+width), ballot, any/all, 64-bit shuffle, activemask", ok, detail);

  std::vector<unsigned> o2(256);
  const char* e1 = cuda_cpu::launch(warp_shared_kernel, dim3(4), dim3(256), o2.data(), 1);
  bool ok1 = !e1;
  for (unsigned t = 0; t < 256 && ok1; ++t) ok1 = o2[t] == (t ^ 1) * 3;
  const char* e2 = cuda_cpu::launch(warp_shared_kernel, dim3(4), dim3(256), o2.data(), 0);
  report("(4b) __syncwarp orders a warp's shared accesses; without it a race is reported",
         ok1 && contains(e2, "race on shared array 's_warp'"), err_or(e1) + " / " + err_or(e2));
}

static void test_global_atomics() {
  unsigned cnt = 0, mx = 0, cas_cnt = 0, bits[8] = {};
  unsigned long long sum64 = 0;
  int mn = 0;
  const unsigned gx = 2048, bx = 128, n = gx * bx;
  cuda_cpu::set_threads(4);  // more OS threads than cores: more interleaving
  const char* e = cuda_cpu::launch(global_atomics_kernel, dim3(gx), dim3(bx), &cnt, &sum64, &mx,
                                   &mn, bits, &cas_cnt);
  cuda_cpu::set_threads(0);
  unsigned long long want64 = 0;
  for (unsigned g = 0; g < n; ++g) want64 += (unsigned long long)g << 20;
  bool ok = !e && cnt == n && cas_cnt == n && sum64 == want64 && mx == n - 1 && mn == -int(n - 1);
  for (int k = 0; k < 8; ++k) ok &= bits[k] == 0x01010101u << k;
  report("(5) global atomics from 2048 blocks x 128 threads on 4 OS threads count exactly", ok,
         e ? e : "cnt " + std::to_string(cnt) + " cas " + std::to_string(cas_cnt));
}

static void test_shared_atomics() {
  std::vector<unsigned> out(2 * 16);
  const char* e = cuda_cpu::launch(shared_atomic_kernel, dim3(16), dim3(512), out.data(), 0);
  bool ok = !e;
  for (int b = 0; b < 16 && ok; ++b) ok = out[2 * b] == 512 && out[2 * b + 1] == 511;
  report("(6) atomicAdd/atomicMax on a shared counter by all threads: no race, exact", ok, err_or(e));
  const char* e2 = cuda_cpu::launch(shared_atomic_kernel, dim3(16), dim3(512), out.data(), 1);
  report("(6b) plain write + atomics by other threads in one interval reported as a race",
         contains(e2, "race on shared array 's_cnt'[0]"), err_or(e2));
}

static void test_intrinsics() {
  struct { const char* what; unsigned long long got, want; } c[] = {
      {"funnelshift_l 8", __funnelshift_l(0x89ABCDEFu, 0x01234567u, 8), 0x23456789u},
      {"funnelshift_l 40", __funnelshift_l(0x89ABCDEFu, 0x01234567u, 40), 0x23456789u},
      {"funnelshift_l 0", __funnelshift_l(0x89ABCDEFu, 0x01234567u, 0), 0x01234567u},
      {"funnelshift_lc 40", __funnelshift_lc(0x89ABCDEFu, 0x01234567u, 40), 0x89ABCDEFu},
      {"funnelshift_r 8", __funnelshift_r(0x89ABCDEFu, 0x01234567u, 8), 0x6789ABCDu},
      {"funnelshift_r 36", __funnelshift_r(0x89ABCDEFu, 0x01234567u, 36), 0x789ABCDEu},
      {"funnelshift_rc 36", __funnelshift_rc(0x89ABCDEFu, 0x01234567u, 36), 0x01234567u},
      {"byte_perm 0x0123", __byte_perm(0x33221100u, 0x77665544u, 0x0123), 0x00112233u},
      {"byte_perm 0x5410", __byte_perm(0x33221100u, 0x77665544u, 0x5410), 0x55441100u},
      {"byte_perm 0x7654", __byte_perm(0x33221100u, 0x77665544u, 0x7654), 0x77665544u},
      {"clz 0", (unsigned)__clz(0), 32}, {"clz 1", (unsigned)__clz(1), 31},
      {"clz 0x80000000", (unsigned)__clz(int(0x80000000u)), 0},
      {"clzll 0", (unsigned)__clzll(0), 64}, {"clzll 1<<40", (unsigned)__clzll(1ll << 40), 23},
      {"popc 0xF0F0", (unsigned)__popc(0xF0F0u), 8}, {"popc ~0", (unsigned)__popc(~0u), 32},
      {"popcll ~0", (unsigned)__popcll(~0ull), 64}, {"ffs 0", (unsigned)__ffs(0), 0},
      {"ffs 8", (unsigned)__ffs(8), 4}, {"brev 0x12345678", __brev(0x12345678u), 0x1E6A2C48u},
      {"brev 1", __brev(1u), 0x80000000u}, {"umulhi", __umulhi(0xFFFFFFFFu, 0xFFFFFFFFu), 0xFFFFFFFEu},
      {"min(3u,5)", min(3u, 5), 3}, {"max(-1,2)", (unsigned)max(-1, 2), 2},
  };
  bool ok = true;
  std::string detail;
  for (auto& x : c)
    if (x.got != x.want) {
      ok = false;
      char buf[128];
      std::snprintf(buf, sizeof buf, "%s: got 0x%llx want 0x%llx; ", x.what, x.got, x.want);
      detail += buf;
    }
  report("(7) funnelshift l/r/lc/rc, byte_perm, clz, popc, ffs, brev, umulhi, min/max", ok, detail);
}

static void test_divergence() {
  std::vector<unsigned> out(256);
  const auto t0 = std::chrono::steady_clock::now();
  const char* e = cuda_cpu::launch(diverge_kernel, dim3(4), dim3(256), out.data());
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  report("(8) barrier reached by half the block (others at another barrier) reported, no hang",
         contains(e, "barrier divergence") && s < 5, err_or(e));
  const char* e2 = cuda_cpu::launch(exit_half_kernel, dim3(4), dim3(256), out.data());
  bool ok2 = !e2;
  for (unsigned t = 0; t < 128 && ok2; ++t) ok2 = out[t] == 127 - t;
  report("(8b) half the block exits, the other half passes a barrier (legal)", ok2, err_or(e2));
  const char* e3 = cuda_cpu::launch(lane_exit_kernel, dim3(1), dim3(64), out.data());
  report("(8c) full-mask shuffle with an exited lane reported",
         contains(e3, "warp op mismatch") && contains(e3, "has exited"), err_or(e3));
}

static void test_views() {
  std::vector<unsigned> out(128);
  const char* e = cuda_cpu::launch(view_kernel, dim3(2), dim3(64), out.data(), 0);
  bool ok = !e;
  for (unsigned t = 0; t < 64 && ok; ++t) {
    const unsigned u = (t + 1) & 63;
    ok = out[2 * t] == u && out[2 * t + 1] == u * 10;
  }
  const char* e2 = cuda_cpu::launch(view_kernel, dim3(2), dim3(64), out.data(), 1);
  report("(9) SHARED_AS(uint2, ...) works aligned; a misaligned view is reported",
         ok && contains(e2, "misaligned") && contains(e2, "'s_view'"), err_or(e) + " / " + err_or(e2));
}

static void test_misc() {
  std::vector<unsigned> out(64);
  const char* e = cuda_cpu::launch(poison_kernel, dim3(1), dim3(32), out.data());
  report("(10) uninitialised shared memory reads the poison 0xCDCDCDCD", !e && out[7] == 0xCDCDCDCDu,
         err_or(e));

  const dim3 grid(3, 2, 2), block(16, 4, 2);
  std::vector<unsigned> idx(12 * 128, 0);
  const char* e2 = cuda_cpu::launch(index_kernel, grid, block, idx.data());
  bool ok = !e2;
  for (unsigned bz = 0; bz < 2; ++bz)
    for (unsigned by = 0; by < 2; ++by)
      for (unsigned bx = 0; bx < 3; ++bx)
        for (unsigned z = 0; z < 2; ++z)
          for (unsigned y = 0; y < 4; ++y)
            for (unsigned x = 0; x < 16; ++x) {
              const unsigned bl = bx + 3 * (by + 2 * bz), tl = x + 16 * (y + 4 * z);
              ok &= idx[bl * 128 + tl] ==
                    (x | y << 8 | z << 12 | bx << 16 | by << 20 | bz << 24);
            }
  report("(11) 3-D threadIdx/blockIdx/blockDim/gridDim", ok, err_or(e2));

  std::vector<unsigned> o(32);
  const char* e3 = cuda_cpu::launch(deep_kernel, dim3(1), dim3(32), o.data(), 400u);
  report("(12) deep recursion reported as fiber stack overflow", contains(e3, "fiber stack overflow"),
         err_or(e3));

  std::vector<unsigned> in(4 * 256), out2(4 * 256), sums(4);
  for (unsigned i = 0; i < in.size(); ++i) in[i] = input_value(i);
  ScanArgs a{in.data(), out2.data(), sums.data(), 0};
  const int rc = fmcpu_scan_struct_kernel(4, 1, 1, 256, 1, 1, &a);
  bool ok4 = rc == 0 && fmcpu_last_error()[0] == 0;
  for (unsigned b = 0; b < 4 && ok4; ++b) {
    unsigned s = 0;
    for (unsigned t = 0; t < 256; ++t) s += in[b * 256 + t];
    ok4 = sums[b] == s;
  }
  a.skip = 1;
  const int rc2 = fmcpu_scan_struct_kernel(4, 1, 1, 256, 1, 1, &a);
  report("(13) C export fmcpu_scan_struct_kernel + fmcpu_last_error",
         ok4 && rc2 != 0 && contains(fmcpu_last_error(), "race"), fmcpu_last_error());

  const char* e5 = cuda_cpu::launch(bench_kernel, dim3(1), dim3(2048), out.data());
  report("(14) invalid launch configuration reported", contains(e5, "invalid launch"), err_or(e5));

  std::vector<unsigned> r1(512), r2(512), r3(512);
  cuda_cpu::set_seed(7);
  const char* e6 = cuda_cpu::launch(order_kernel, dim3(1), dim3(256), r1.data());
  cuda_cpu::set_seed(7);
  const char* e7 = cuda_cpu::launch(order_kernel, dim3(1), dim3(256), r2.data());
  cuda_cpu::set_seed(8);
  const char* e8 = cuda_cpu::launch(order_kernel, dim3(1), dim3(256), r3.data());
  const bool phases_differ = !std::equal(r1.begin(), r1.begin() + 256, r1.begin() + 256);
  report("(15) thread order: same seed same order, other seed or next barrier another order",
         !e6 && !e7 && !e8 && r1 == r2 && r1 != r3 && phases_differ, err_or(e6));
}

static void test_timing() {
  const unsigned gx = 65536, n = gx * 256;
  std::vector<unsigned> out(n), ref(n);
  const auto t0 = std::chrono::steady_clock::now();
  for (unsigned b = 0; b < gx; ++b) {  // the same computation as plain C++
    unsigned a[256], c[256];
    for (unsigned t = 0; t < 256; ++t) a[t] = mix(b * 256 + t);
    for (unsigned t = 0; t < 256; ++t) c[t] = a[t] + a[(t + 1) & 255];
    for (unsigned t = 0; t < 256; ++t) a[t] = c[t] ^ c[255 - t];
    for (unsigned t = 0; t < 256; ++t) c[t] = a[t] * 3 + __funnelshift_l(a[(t + 17) & 255], a[t], t);
    for (unsigned t = 0; t < 256; ++t) ref[b * 256 + t] = c[t] + c[(t + 128) & 255];
  }
  const auto t1 = std::chrono::steady_clock::now();
  const double plain = std::chrono::duration<double>(t1 - t0).count();
  double secs[2];
  bool ok = true;
  std::string detail;
  for (int checks = 1; checks >= 0; --checks) {
    cuda_cpu::set_checks(checks != 0);
    std::fill(out.begin(), out.end(), 0);
    const auto s0 = std::chrono::steady_clock::now();
    const char* e = cuda_cpu::launch(bench_kernel, dim3(gx), dim3(256), out.data());
    secs[checks] = std::chrono::duration<double>(std::chrono::steady_clock::now() - s0).count();
    if (e) { ok = false; detail = e; }
    if (out != ref) { ok = false; detail += " wrong result"; }
  }
  cuda_cpu::set_checks(true);
  report("(16) timing kernel result matches plain C++", ok, detail);
  std::printf("TIME 65536 blocks x 256 threads, 4 barriers, %u OS threads: %.2f s with checks, "
              "%.2f s without (plain C++ loop, 1 thread: %.3f s)\n",
              std::thread::hardware_concurrency(), secs[1], secs[0], plain);
}

int main() {
  test_scan_reduce();
  test_missing_barrier();
  test_oob();
  test_warp();
  test_global_atomics();
  test_shared_atomics();
  test_intrinsics();
  test_divergence();
  test_views();
  test_misc();
  test_timing();
  std::printf("%s: %d failure(s)\n", g_failures ? "FAILED" : "OK", g_failures);
  return g_failures ? 1 : 0;
}
