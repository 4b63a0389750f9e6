defmodule Nx.Torch do
  @moduledoc """
  The LibTorch engine: the `defn` compiler, runtime information and memory
  accounting.

  Tensors live in `Nx.Torch.Backend` (the default backend). This module is
  also an `Nx.Defn.Compiler`, and reports what the engine holds and how it
  was set up.

  ## The defn compiler

      # config/config.exs
      config :nx, default_defn_options: [compiler: Nx.Torch]

      # or per function
      fun = Nx.Defn.jit(&MyModule.step/2, compiler: Nx.Torch)

  The first call for a function and input templates (types, shapes and
  names) traces it, removes common subexpressions and dead code, and lowers
  the graph into an instruction list that the engine builds once into a
  program. Every later call runs the whole program — `while`, `cond`,
  containers — in one NIF call. Intermediate values are freed right after
  their last use (an unfused float operation overwrites a dying operand
  that nothing else shares instead of allocating), and on the CPU chains of element-wise f32 operations
  (`+ - * /`, `max`, `min`, `negate`, `abs`, `exp`, `log`, `tanh`,
  `sigmoid`, `sqrt`, `rsqrt`, comparisons, `select`, and `sum`,
  `reduce_max` and `reduce_min` over the last axis; operands that are single
  elements, rows or columns broadcast over the result, or u8/s8/u16/s16/
  f16/bf16 tensors), and f16 and bf16 chains of those operations (each
  result rounded to its type, as the backend rounds it), run fused: block by block in the cache, with vectorized kernels
  (AVX2/FMA, or AVX-512 when the CPU has it and `NX_TORCH_AVX512` is not
  `0`), writing only the values used outside
  the chain. On CUDA the same chains become one generated CUDA kernel each,
  compiled at run time with NVRTC (one thread per element, or one block per
  row for row reductions); each is checked once against LibTorch's
  operations, and where NVRTC is missing (`NX_TORCH_NVRTC` may name
  `libnvrtc.so.13`), a kernel does not compile or disagrees, or
  `NX_TORCH_CUDA_FUSE` is `0`, the chain runs as LibTorch operations on
  the device (`info/0` counts both). Small f32 matrix products run the engine's own loops; larger
  ones, reductions and everything else run LibTorch's kernels with the same
  semantics as `Nx.Torch.Backend`. `NX_TORCH_PROFILE=1` prints the time of
  every instruction of every run to standard error.

  Options (given to `Nx.Defn.jit/2` or in `:default_defn_options`):

    * `:device` - `:cpu`, `:cuda` or `{:cuda, index}` (default: the device of
      the default backend)
    * `:hooks` - as for every compiler; hooks run after the program, in
      order, with the values it computed
    * `:fuse` - `false` turns element-wise fusion off (default `true`)
    * `:cache` - `false` compiles on every call (default `true`)

  Results are `Nx.Torch.Backend` tensors on that device. Compiled programs
  are cached per function, templates and options (concurrent first calls
  compile once; a warning is logged when one function keeps compiling for
  new shapes). Functions that use what the compiler does not lower yet
  (`Nx.reduce/4` and `Nx.window_reduce/5` with functions, hooks inside
  `while`/`cond`, operations without a lowering) run with
  `Nx.Defn.Evaluator` instead, after a logged warning. The Evaluator stays
  the debugging path: `compiler: Nx.Defn.Evaluator`.

  ## Threads

  LibTorch's intra-op thread count is set when the NIF loads, from the
  `NX_TORCH_THREADS` environment variable or `config :nx, torch_threads: n`
  (LibTorch's own default otherwise). It cannot change afterwards: LibTorch
  keeps part of that setting per OS thread.

  Short kernels of the engine's own (fused element-wise kernels, small
  matrix products, arg-reductions over rows) are split across cores by
  helper threads, one per LibTorch thread beyond the first, started when the
  NIF loads: they stay awake for 50 µs after each kernel, so that the
  kernels of a compiled program do not pay for waking LibTorch's OpenMP
  workers each time, and then sleep. `NX_TORCH_SPLIT=0` starts none. Large
  f32 and f64 matrix products use them too: one block of rows per core,
  each computed by MKL single-threaded, since MKL's own threads sleep at
  every synchronization under `OMP_WAIT_POLICY=passive`
  (`NX_TORCH_SPLIT_MM=0` leaves them to MKL's threads).

  Large operations run on dirty schedulers at a lower OS priority (nice 10;
  `NX_TORCH_NICE=n` for another niceness, `NX_TORCH_NICE=idle` for Linux's
  `SCHED_IDLE`), as do the helpers, so that the BEAM's normal schedulers
  keep their cores.

  ## Deferred element-wise work

  Eager element-wise f32 operations on the CPU whose results have at least
  65,536 elements (and at most 4,194,304) do not run at once: `+ - * /`,
  `max`, `min`, `negate`, `abs`, `exp`, `log`, `tanh`, `sigmoid`, `sqrt`
  and `rsqrt`, and `sum`, `reduce_max` and `reduce_min` over the last axis of an
  f32 tensor (rows of 16 to 16,384 elements), return a tensor whose values
  are an expression over the tensors they read. Later operations extend the
  expression, and the first operation that needs the values (any other
  operation, `Nx.to_binary/1`, inspecting, a compiled function, `sync/1`)
  computes it with one fused kernel, block by block in the cache. An eager
  softmax, `exp(x - reduce_max(x)) / sum(...)` over rows, becomes one pass
  over its rows instead of five passes over memory.

  Tensors are immutable, so this changes no result except where the fused
  kernels' own results differ from LibTorch's (`exp`, `log`, `tanh` and
  `sigmoid` within their documented error; sums in another order). An expression
  reads at most 6 tensors, holds at most 24 operations and is estimated to
  take at most 3 ms on one core; beyond that its operands are computed
  first, on a dirty scheduler. Set `NX_TORCH_LAZY=0` to turn it off. When
  timing eager code, call `sync/1` on the results, as one waits for a GPU.

  ## Memory

  CPU tensors come from a caching allocator: blocks of 1 MiB or more are
  kept when freed and reused for the next tensor of a similar size, instead
  of going back to glibc, which maps every block over 32 MiB afresh (and
  pays a page fault per 4 KiB on first touch). On the build machine an eager
  chain of 20 conversions over 1e7 elements takes 66-70 ms with it and
  316-384 ms without (`bench/allocator.exs`). The cache keeps at most 1 GiB
  (`config :nx, torch_allocator_cache_bytes: n`); `NX_TORCH_ALLOCATOR=system`
  turns it off; `release_cached_memory/0` empties it.
  """

  @behaviour Nx.Defn.Compiler

  alias Nx.Torch.NIF

  @impl Nx.Defn.Compiler
  defdelegate __jit__(key, vars, fun, args_list, opts), to: Nx.Torch.Compiler

  @impl Nx.Defn.Compiler
  defdelegate __compile__(key, vars, fun, opts), to: Nx.Torch.Compiler

  @impl Nx.Defn.Compiler
  defdelegate __partitions_options__(opts), to: Nx.Torch.Compiler

  @impl Nx.Defn.Compiler
  defdelegate __to_backend__(opts), to: Nx.Torch.Compiler

  @doc """
  Live tensors and their bytes, per device.

  Bytes are each tensor's logical size (elements times element size);
  tensors released by garbage collection or `Nx.backend_deallocate/1` no
  longer count.

  ## Examples

      iex> stats = Nx.Torch.memory_stats()
      iex> %{tensors: n, bytes: b} = stats[:cpu]
      iex> is_integer(n) and is_integer(b)
      true
  """
  @spec memory_stats() :: %{
          optional(:cpu | {:cuda, non_neg_integer}) => %{
            tensors: non_neg_integer,
            bytes: non_neg_integer
          }
        }
  def memory_stats do
    Map.new(NIF.rt_memory_stats(), fn {code, tensors, bytes} ->
      device = if code < 0, do: :cpu, else: {:cuda, code}
      {device, %{tensors: tensors, bytes: bytes}}
    end)
  end

  @doc """
  Information about the engine: the LibTorch version and path, its thread
  count, whether libtorch_cuda and the NVIDIA driver could be loaded, the
  number of CUDA devices and, when there are none, why, and the caching
  allocator's counters.

  `:cuda_fused_launches` counts the runs of fused element-wise kernels of
  compiled programs on CUDA that ran as generated CUDA code (NVRTC), and
  `:cuda_fused_fallbacks` those that ran as LibTorch operations instead
  (NVRTC not found, `NX_TORCH_CUDA_FUSE=0`, or a kernel set aside).

  ## Examples

      iex> %{threads: threads, cuda_device_count: count} = Nx.Torch.info()
      iex> threads > 0 and count >= 0
      true
  """
  @spec info() :: %{
          torch_version: String.t(),
          libtorch_path: String.t(),
          cuda_library: :loaded | String.t(),
          cuda_driver: boolean,
          allocator_cached_bytes: non_neg_integer,
          allocator_hits: non_neg_integer,
          allocator_misses: non_neg_integer,
          threads: pos_integer,
          cuda_device_count: non_neg_integer,
          cuda_reason: String.t(),
          cuda_fused_launches: non_neg_integer,
          cuda_fused_fallbacks: non_neg_integer
        }
  def info, do: NIF.rt_info()

  @doc """
  The CUDA devices the NVIDIA driver reports, with their memory (an empty
  list without a driver). Works even when LibTorch's CUDA support is not
  loaded.

  ## Examples

      iex> is_list(Nx.Torch.cuda_devices())
      true
  """
  @spec cuda_devices() :: [
          %{
            index: non_neg_integer,
            name: String.t(),
            total_bytes: non_neg_integer,
            free_bytes: non_neg_integer
          }
        ]
  def cuda_devices do
    for {index, name, total, free} <- NIF.rt_cuda_devices() do
      %{index: index, name: name, total_bytes: total, free_bytes: free}
    end
  end

  @doc """
  Computes now any deferred values of the `Nx.Torch.Backend` tensors in
  `container` (a tensor, or a tuple, map or other `Nx.Container` of them)
  and returns `container`.

  Eager element-wise work on large CPU tensors may be deferred until its
  values are needed (see "Deferred element-wise work" in the module
  documentation); the values are the same either way. Use it to time eager
  code, or to compute values before handing tensors to another process.

  ## Examples

      iex> x = Nx.iota({256, 256}, type: :f32)
      iex> y = Nx.Torch.sync(Nx.add(x, 1))
      iex> Nx.Torch.deferred?(y)
      false
      iex> y[0][0..2]
      #Nx.Tensor<
        f32[3]
        [1.0, 2.0, 3.0]
      >
  """
  @spec sync(container) :: container when container: Nx.Container.t()
  def sync(container) do
    Nx.Defn.Composite.reduce(container, :ok, fn
      %Nx.Tensor{data: %Nx.Torch.Backend{ref: ref}}, :ok ->
        if NIF.t_deferred(ref), do: NIF.t_sync_dirty(ref), else: :ok

      _other, :ok ->
        :ok
    end)

    container
  end

  @doc """
  Returns whether `tensor`'s values are still deferred (see "Deferred
  element-wise work" in the module documentation). Tensors of other
  backends, and numbers, never are.

  ## Examples

      iex> x = Nx.iota({256, 256}, type: :f32)
      iex> y = Nx.exp(Nx.negate(x))
      iex> Nx.Torch.deferred?(y)
      true
      iex> Nx.Torch.deferred?(Nx.exp(Nx.tensor([1.0, 2.0])))
      false
      iex> Nx.sum(y) |> Nx.to_number() |> Float.round(4)
      1.582
      iex> Nx.Torch.deferred?(y)
      false
  """
  @spec deferred?(Nx.Tensor.t() | number) :: boolean
  def deferred?(%Nx.Tensor{data: %Nx.Torch.Backend{ref: ref}}), do: NIF.t_deferred(ref)
  def deferred?(_other), do: false

  @doc """
  Returns the caching allocator's free blocks to the system.

  ## Examples

      iex> Nx.Torch.release_cached_memory()
      :ok
  """
  @spec release_cached_memory() :: :ok
  def release_cached_memory, do: NIF.rt_release_cached_memory()
end
