// The few LibTorch facilities that tch does not expose. Every function is noexcept from the
// point of view of Rust: C++ exceptions never cross this boundary.
#include <c10/core/InferenceMode.h>
#include <c10/core/CPUAllocator.h>
#include <c10/core/Allocator.h>
#include <ATen/Parallel.h>
#include <ATen/EmptyTensor.h>
#include <ATen/core/Tensor.h>
#include <ATen/ops/addmm.h>
#include <torch/headeronly/version.h>

#include <dlfcn.h>
#include <sched.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <algorithm>
#include <string>
#include <unordered_map>
#include <c10/util/Exception.h>
#include <cstdio>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <new>
#include <vector>

namespace {

// ---------------------------------------------------------------------------------------------
// A caching CPU allocator. LibTorch's default CPU allocator calls posix_memalign/free, and glibc
// serves every block over 32 MiB with a fresh mmap whose pages fault on first touch (~2 us per
// 4 KiB page here): an eager chain over 1e7 floats spends most of its time in page faults.
// Freed blocks are kept on free lists by rounded size and reused, within a bound. Small blocks
// are cached too: posix_memalign for tiny tensors costs more than the rest of an eager op's
// allocation path (it splits and consolidates glibc chunks on every call).
constexpr size_t kAlign = 64;
constexpr size_t kHeader = 64;  // keeps the data 64-byte aligned; holds the block size
constexpr size_t kLargeBlock = size_t(1) << 20;  // rounded by 1/8 of a power of two above
constexpr size_t kSmallest = 64;                  // smaller requests round up to this

struct BlockCache {
  std::mutex mutex;
  std::unordered_map<size_t, std::vector<void *>> free_blocks;
  size_t cached_bytes = 0;
  size_t limit_bytes = size_t(1) << 30;
  std::atomic<uint64_t> hits{0};
  std::atomic<uint64_t> misses{0};
};

// Never destroyed: deleters may run while the process exits.
BlockCache &block_cache() {
  static BlockCache *cache = new BlockCache();
  return *cache;
}

// Linux overcommits: an allocation larger than the memory that is really available succeeds
// and the kernel's OOM killer ends the whole VM when the pages are touched. Large requests are
// therefore checked against MemAvailable first and refused with a C++ error (an Elixir
// exception) instead.
constexpr size_t kCheckAbove = size_t(256) << 20;

size_t available_memory() {
  FILE *f = std::fopen("/proc/meminfo", "r");
  if (f == nullptr) return SIZE_MAX;
  char line[256];
  size_t kb = 0;
  bool found = false;
  while (std::fgets(line, sizeof line, f) != nullptr) {
    if (std::sscanf(line, "MemAvailable: %zu kB", &kb) == 1) {
      found = true;
      break;
    }
  }
  std::fclose(f);
  return found ? kb * 1024 : SIZE_MAX;
}

size_t rounded_size(size_t n) {
  size_t power = kSmallest;
  while (power < n) power <<= 1;
  if (power <= kLargeBlock) return power;  // small blocks: powers of two
  size_t step = power / 8;                 // large blocks: at most 12.5% slack
  return (n + step - 1) / step * step;
}

void free_block(void *base) {
  if (base == nullptr) return;
  size_t size = *static_cast<size_t *>(base);
  {
    BlockCache &cache = block_cache();
    std::lock_guard<std::mutex> lock(cache.mutex);
    if (cache.cached_bytes + size <= cache.limit_bytes) {
      cache.free_blocks[size].push_back(base);
      cache.cached_bytes += size;
      return;
    }
  }
  std::free(base);
}

// The deleter receives the data pointer: LibTorch's raw_allocate (used by oneDNN, e.g. for
// every f32 convolution) requires a DataPtr whose context is its data.
void free_data(void *data) {
  if (data == nullptr) return;
  free_block(static_cast<char *>(data) - kHeader);
}

struct CachingCpuAllocator final : public c10::Allocator {
  c10::DataPtr allocate(size_t n) override {
    size_t size = rounded_size(n);
    void *base = nullptr;
    {
      BlockCache &cache = block_cache();
      std::lock_guard<std::mutex> lock(cache.mutex);
      auto it = cache.free_blocks.find(size);
      if (it != cache.free_blocks.end() && !it->second.empty()) {
        base = it->second.back();
        it->second.pop_back();
        cache.cached_bytes -= size;
        cache.hits.fetch_add(1, std::memory_order_relaxed);
      } else {
        cache.misses.fetch_add(1, std::memory_order_relaxed);
      }
    }
    if (base == nullptr && size >= kCheckAbove) {
      size_t available = available_memory();
      if (size > available) {
        C10_THROW_ERROR(OutOfMemoryError, "Nx.Torch: refusing to allocate " + std::to_string(n) +
                                              " bytes on the CPU: only " +
                                              std::to_string(available) +
                                              " bytes of memory are available");
      }
    }
    if (base == nullptr) {
      if (posix_memalign(&base, kAlign, size + kHeader) != 0 || base == nullptr) {
        C10_THROW_ERROR(OutOfMemoryError, "Nx.Torch: CPU allocation of " + std::to_string(n) +
                                              " bytes failed");
      }
    }
    *static_cast<size_t *>(base) = size;
    void *data = static_cast<char *>(base) + kHeader;
    return {data, data, &free_data, c10::Device(c10::DeviceType::CPU)};
  }

  // raw_allocate/raw_deallocate (oneDNN's scratch buffers) free through this deleter
  c10::DeleterFnPtr raw_deleter() const override { return &free_data; }

  void copy_data(void *dest, const void *src, std::size_t count) const override {
    default_copy_data(dest, src, count);
  }
};

CachingCpuAllocator *caching_allocator() {
  static CachingCpuAllocator *allocator = new CachingCpuAllocator();
  return allocator;
}

}  // namespace

// MKL's per-thread thread count (exported by libtorch_cpu.so, which links MKL statically).
extern "C" int MKL_Set_Num_Threads_Local(int nthreads);

extern "C" {

// Sets how many threads MKL uses for calls made from the calling thread (0: MKL's global
// setting again). Returns the previous per-thread value.
int nx_mkl_local_threads(int n) { return MKL_Set_Num_Threads_Local(n); }

// Makes the caching allocator LibTorch's CPU allocator. Called once, when the NIF loads, before
// any tensor exists. `limit` bounds the bytes kept in the cache.
int nx_install_caching_allocator(uint64_t limit) {
  try {
    block_cache().limit_bytes = static_cast<size_t>(limit);
    c10::SetCPUAllocator(caching_allocator(), /*priority=*/10);
    return 0;
  } catch (...) {
    return -1;
  }
}

// Returns cached blocks to the system.
void nx_release_cached_memory() {
  BlockCache &cache = block_cache();
  std::lock_guard<std::mutex> lock(cache.mutex);
  for (auto &entry : cache.free_blocks) {
    for (void *base : entry.second) std::free(base);
    entry.second.clear();
  }
  cache.cached_bytes = 0;
}

// cached bytes, hits, misses
void nx_allocator_stats(uint64_t *out) {
  BlockCache &cache = block_cache();
  std::lock_guard<std::mutex> lock(cache.mutex);
  out[0] = cache.cached_bytes;
  out[1] = cache.hits.load();
  out[2] = cache.misses.load();
}

// A new uninitialized contiguous CPU tensor, made by at::detail::empty_cpu directly rather than
// through the dispatcher (at::empty), which costs more than the arithmetic of a tiny
// element-wise operation. `scalar_type` is a c10::ScalarType code. Returns a heap-allocated
// at::Tensor (the handle tch wraps), or null on an exception.
void *nx_empty_cpu(int scalar_type, const int64_t *dims, int64_t ndim) {
  try {
    auto base = at::detail::empty_cpu(c10::IntArrayRef(dims, static_cast<size_t>(ndim)),
                                      static_cast<c10::ScalarType>(scalar_type));
    return new at::Tensor(std::move(base));
  } catch (...) {
    return nullptr;
  }
}

// self + alpha * (mat1 @ mat2) in one GEMM whose accumulator starts from self (beta = 1): a
// weight update `w - lr * dot(a, b)` without a tensor for the product. Null on any C++ error.
void *nx_addmm(const at::Tensor *self, const at::Tensor *mat1, const at::Tensor *mat2,
               double alpha) {
  try {
    return new at::Tensor(self->addmm(*mat1, *mat2, 1.0, alpha));
  } catch (...) {
    return nullptr;
  }
}

// Whether `t` is the only handle on its tensor and its storage (no other handle, view or
// alias shares its memory): then it may be overwritten in place. 1 when it is.
int nx_tensor_is_unique(const at::Tensor *t) {
  if (!t->defined() || !t->has_storage()) return 0;
  return t->use_count() == 1 && t->storage().use_count() == 1 ? 1 : 0;
}

// out = self + alpha * (mat1 @ mat2) into an existing `out` (a row block of a larger result).
// Returns 0, or -1 when LibTorch raised.
int nx_addmm_out(const at::Tensor *out, const at::Tensor *self, const at::Tensor *mat1,
                 const at::Tensor *mat2, double alpha) {
  try {
    at::Tensor target = *out;
    at::addmm_out(target, *self, *mat1, *mat2, 1.0, alpha);
    return 0;
  } catch (...) {
    return -1;
  }
}

// Puts the calling thread in InferenceMode for the rest of its life. Autograd belongs to the
// Elixir layer (symbolic), so LibTorch's version counters and autograd dispatch are pure cost.
// BEAM scheduler threads live as long as the VM, so the guard is intentionally never destroyed.
int nx_enter_inference_mode() {
  try {
    thread_local c10::InferenceMode *guard = new c10::InferenceMode(true);
    (void)guard;
    return 0;
  } catch (...) {
    return -1;
  }
}

int nx_set_num_threads(int n) {
  try {
    at::set_num_threads(n);
    return 0;
  } catch (...) {
    return -1;
  }
}

int nx_get_num_threads() {
  try {
    return at::get_num_threads();
  } catch (...) {
    return -1;
  }
}

// Copies `text` into `buf` (always NUL-terminated). Returns the length of `text`.
static size_t copy_out(const std::string &text, char *buf, size_t len) {
  if (len > 0) {
    size_t n = std::min(text.size(), len - 1);
    std::memcpy(buf, text.data(), n);
    buf[n] = '\0';
  }
  return text.size();
}

// The LibTorch version the engine was compiled against, e.g. "2.11.0".
size_t nx_torch_version(char *buf, size_t len) { return copy_out(TORCH_VERSION, buf, len); }

// The path of the libtorch_cpu.so this process loaded.
size_t nx_libtorch_path(char *buf, size_t len) {
  Dl_info info;
  if (dladdr(reinterpret_cast<void *>(&at::get_num_threads), &info) != 0 &&
      info.dli_fname != nullptr) {
    return copy_out(info.dli_fname, buf, len);
  }
  return copy_out("", buf, len);
}

// Loads libtorch_cuda.so from LibTorch's own directory (with RTLD_GLOBAL so LibTorch's CUDA
// hooks register). A CPU-only set-up lacks its CUDA dependencies: the load then fails cleanly
// and `buf` receives the loader's message, which names the missing library.
int nx_load_cuda(char *buf, size_t len) {
  char path[4096];
  nx_libtorch_path(path, sizeof path);
  std::string dir(path);
  size_t slash = dir.rfind('/');
  dir = slash == std::string::npos ? std::string(".") : dir.substr(0, slash);
  std::string lib = dir + "/libtorch_cuda.so";
  if (dlopen(lib.c_str(), RTLD_NOW | RTLD_GLOBAL) == nullptr) {
    const char *err = dlerror();
    copy_out(err != nullptr ? err : "unknown error", buf, len);
    return -1;
  }
  copy_out("", buf, len);
  return 0;
}

// Loads a shared library by path with RTLD_GLOBAL (NVRTC before cudarc looks it up by name).
// Returns 0 when it loaded.
int nx_dlopen_global(const char *path) {
  return dlopen(path, RTLD_NOW | RTLD_GLOBAL) == nullptr ? -1 : 0;
}

// Lowers the calling thread's scheduling priority (nice `niceness`; a negative value selects
// SCHED_IDLE, which runs only when no normal thread wants the core). OpenMP worker threads
// that LibTorch creates later from this thread inherit it. Returns 0 on success.
int nx_lower_thread_priority(int niceness) {
  pid_t tid = static_cast<pid_t>(syscall(SYS_gettid));
  if (niceness < 0) {
    struct sched_param param;
    param.sched_priority = 0;
    return sched_setscheduler(tid, SCHED_IDLE, &param);
  }
  return setpriority(PRIO_PROCESS, static_cast<id_t>(tid), niceness);
}

}  // extern "C"
