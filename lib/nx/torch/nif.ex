defmodule Nx.Torch.NIF do
  # The one module that binds the Rust NIF library (native/nx_torch_nif). Every function here
  # is a stub that the library replaces when it loads; names match the Rust functions one to
  # one. Functions ending in `_dirty` run the same code on a dirty CPU scheduler.
  @moduledoc false

  import Bitwise

  @on_load :__load__

  @doc false
  def __load__ do
    path = :filename.join(:code.priv_dir(:nx), ~c"libnx_torch_nif")

    case :erlang.load_nif(path, {threads(), allocator_cache_limit()}) do
      :ok ->
        :ok

      {:error, {reason, text}} ->
        :persistent_term.put({__MODULE__, :load_error}, {reason, List.to_string(text)})
        :ok
    end
  end

  defp threads do
    env = System.get_env("NX_TORCH_THREADS")

    cond do
      env != nil ->
        String.to_integer(env)

      is_integer(Application.get_env(:nx, :torch_threads)) ->
        Application.get_env(:nx, :torch_threads)

      true ->
        0
    end
  rescue
    _ -> 0
  end

  # Bytes the caching CPU allocator may keep; NX_TORCH_ALLOCATOR=system turns it off.
  defp allocator_cache_limit do
    case System.get_env("NX_TORCH_ALLOCATOR") do
      "system" -> 0
      _ -> Application.get_env(:nx, :torch_allocator_cache_bytes, 1 <<< 30)
    end
  end

  @doc false
  def load_error, do: :persistent_term.get({__MODULE__, :load_error}, nil)

  defp not_loaded do
    {reason, text} = load_error() || {:unknown, "unknown reason"}

    raise RuntimeError, """
    the Nx.Torch NIF library (priv/libnx_torch_nif.so) is not loaded: #{reason}: #{text}

    Build it with `make setup && mix compile` (or `make test`, which does everything).
    """
  end

  @stubs [
    t_from_binary: 4,
    t_from_binary_dirty: 4,
    t_to_binary: 2,
    t_to_binary_dirty: 2,
    t_iota: 4,
    t_iota_dirty: 4,
    t_eye: 3,
    t_eye_dirty: 3,
    t_to_pointer: 1,
    t_from_pointer: 5,
    t_as_type: 2,
    t_as_type_dirty: 2,
    t_bitcast: 2,
    t_bitcast_dirty: 2,
    t_to_device: 2,
    t_reshape: 2,
    t_transpose: 2,
    t_broadcast: 3,
    t_reverse: 2,
    t_reverse_dirty: 2,
    t_pad: 4,
    t_pad_dirty: 4,
    t_concatenate: 3,
    t_concatenate_dirty: 3,
    t_stack: 3,
    t_stack_dirty: 3,
    t_slice: 4,
    t_put_slice: 4,
    t_put_slice_dirty: 4,
    t_gather: 3,
    t_gather_dirty: 3,
    t_take: 3,
    t_take_dirty: 3,
    t_take_along_axis: 3,
    t_take_along_axis_dirty: 3,
    t_indexed: 6,
    t_indexed_dirty: 6,
    t_binary: 4,
    t_binary_dirty: 4,
    t_binary_defer: 4,
    t_unary: 3,
    t_unary_dirty: 3,
    t_unary_defer: 3,
    t_select: 5,
    t_select_dirty: 5,
    t_clip: 4,
    t_clip_dirty: 4,
    t_reduce: 5,
    t_reduce_dirty: 5,
    t_reduce_defer: 5,
    t_arg_reduce: 6,
    t_arg_reduce_dirty: 6,
    t_dot: 7,
    t_dot_dirty: 7,
    t_conv: 9,
    t_conv_dirty: 9,
    t_window_reduce: 4,
    t_window_reduce_dirty: 4,
    t_windows: 3,
    t_windows_dirty: 3,
    t_window_scatter: 6,
    t_window_scatter_dirty: 6,
    t_sort: 4,
    t_sort_dirty: 4,
    t_argsort: 5,
    t_argsort_dirty: 5,
    t_top_k: 3,
    t_top_k_dirty: 3,
    t_cumulative: 5,
    t_cumulative_dirty: 5,
    t_cholesky: 2,
    t_cholesky_dirty: 2,
    t_qr: 3,
    t_qr_dirty: 3,
    t_eigh: 2,
    t_eigh_dirty: 2,
    t_svd: 3,
    t_svd_dirty: 3,
    t_lu: 3,
    t_lu_dirty: 3,
    t_solve: 3,
    t_solve_dirty: 3,
    t_triangular_solve: 6,
    t_triangular_solve_dirty: 6,
    t_determinant: 2,
    t_determinant_dirty: 2,
    t_invert: 2,
    t_invert_dirty: 2,
    t_pinv: 3,
    t_pinv_dirty: 3,
    t_matrix_rank: 3,
    t_matrix_rank_dirty: 3,
    t_least_squares: 4,
    t_least_squares_dirty: 4,
    t_fft: 6,
    t_fft_dirty: 6,
    t_fft2: 6,
    t_fft2_dirty: 6,
    t_rfft: 5,
    t_rfft_dirty: 5,
    t_irfft: 5,
    t_irfft_dirty: 5,
    t_deallocate: 1,
    t_sync: 1,
    t_sync_dirty: 1,
    t_deferred: 1,
    p_build: 6,
    p_run: 2,
    p_run_dirty: 2,
    p_run_io: 2,
    rt_memory_stats: 0,
    rt_info: 0,
    rt_release_cached_memory: 0,
    rt_cuda_devices: 0,
    dbg_panic_body: 0,
    dbg_panic_decode: 1,
    dbg_panic_encode: 0
  ]

  for {name, arity} <- @stubs do
    args = Macro.generate_arguments(arity, __MODULE__)

    @doc false
    def unquote(name)(unquote_splicing(args)) do
      _ = {unquote_splicing(args)}
      not_loaded()
    end
  end
end
