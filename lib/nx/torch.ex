defmodule Nx.Torch do
  @moduledoc """
  The LibTorch engine: runtime information and memory accounting.

  Tensors live in `Nx.Torch.Backend` (the default backend). This module
  reports what the engine holds and how it was set up.

  ## Threads

  LibTorch's intra-op thread count is set when the NIF loads, from the
  `NX_TORCH_THREADS` environment variable or `config :nx, torch_threads: n`
  (LibTorch's own default otherwise). It cannot change afterwards: LibTorch
  keeps part of that setting per OS thread.
  """

  alias Nx.Torch.NIF

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
  Information about the engine: LibTorch's thread count, the number of
  CUDA devices and, when there are none, why.

  ## Examples

      iex> %{threads: threads, cuda_device_count: count} = Nx.Torch.info()
      iex> threads > 0 and count >= 0
      true
  """
  @spec info() :: %{
          threads: pos_integer,
          cuda_device_count: non_neg_integer,
          cuda_reason: String.t()
        }
  def info, do: NIF.rt_info()
end
