defmodule Nx.Torch.Backend.LinAlg do
  # Nx.Torch.Backend's linear algebra and Fourier transform callbacks (delegated to from
  # Nx.Torch.Backend): each is one NIF call into LibTorch's linalg/fft routines. `block/4`
  # serves the composite operations of Nx.LinAlg and Nx (rfft, irfft, fft2, ...) and returns
  # `:default` for the ones it does not know.
  @moduledoc false

  alias Nx.Tensor, as: T
  alias Nx.Torch.NIF
  import Nx.Torch.Backend, only: [ref: 1, type_code: 1]

  # Factorizations cost about size * n; from this many multiply-adds they run on dirty
  # schedulers (about a millisecond of LAPACK work).
  @dirty_cost 1_000_000

  ## Callbacks of Nx.Backend

  def cholesky(%T{type: type} = out, tensor) do
    to_nx(call(:t_cholesky, tensor, [ref(tensor), type_code(type)]), out, tensor)
  end

  def qr({%T{type: type} = q, r}, tensor, opts) do
    args = [ref(tensor), opts[:mode] == :complete, type_code(type)]
    {q_ref, r_ref} = call(:t_qr, tensor, args)
    {to_nx(q_ref, q, tensor), to_nx(r_ref, r, tensor)}
  end

  def eigh({%T{type: type} = values, vectors}, tensor, _opts) do
    {v_ref, w_ref} = call(:t_eigh, tensor, [ref(tensor), type_code(type)])
    {to_nx(v_ref, values, tensor), to_nx(w_ref, vectors, tensor)}
  end

  def svd({%T{type: type} = u, s, vt}, tensor, opts) do
    args = [ref(tensor), opts[:full_matrices?] != false, type_code(type)]
    {u_ref, s_ref, vt_ref} = call(:t_svd, tensor, args)
    {to_nx(u_ref, u, tensor), to_nx(s_ref, s, tensor), to_nx(vt_ref, vt, tensor)}
  end

  def lu({%T{type: p_type} = p, %T{type: type} = l, u}, tensor, _opts) do
    {p_ref, l_ref, u_ref} = call(:t_lu, tensor, [ref(tensor), type_code(p_type), type_code(type)])
    {to_nx(p_ref, p, tensor), to_nx(l_ref, l, tensor), to_nx(u_ref, u, tensor)}
  end

  def solve(%T{type: type} = out, a, b) do
    to_nx(call(:t_solve, a, [ref(a), ref(b), type_code(type)]), out, a)
  end

  def triangular_solve(%T{type: type} = out, a, b, opts) do
    args = [
      ref(a),
      ref(b),
      Keyword.get(opts, :left_side, true),
      Keyword.get(opts, :lower, true),
      Keyword.get(opts, :transform_a, :none) == :transpose,
      type_code(type)
    ]

    to_nx(call(:t_triangular_solve, a, args), out, a)
  end

  def determinant(%T{type: type} = out, tensor) do
    to_nx(call(:t_determinant, tensor, [ref(tensor), type_code(type)]), out, tensor)
  end

  def fft(out, tensor, opts), do: fft1(false, out, tensor, opts)
  def ifft(out, tensor, opts), do: fft1(true, out, tensor, opts)
  def fft2(out, tensor, opts), do: fft_2d(false, out, tensor, opts)
  def ifft2(out, tensor, opts), do: fft_2d(true, out, tensor, opts)

  defp fft1(inverse?, %T{type: type} = out, tensor, opts) do
    args = [ref(tensor), opts[:length], opts[:axis], inverse?, eps(opts), type_code(type)]
    to_nx(apply(NIF, pick(:t_fft, out), args), out, tensor)
  end

  defp fft_2d(inverse?, %T{type: type} = out, tensor, opts) do
    args = [ref(tensor), opts[:lengths], opts[:axes], inverse?, eps(opts), type_code(type)]
    to_nx(apply(NIF, pick(:t_fft2, out), args), out, tensor)
  end

  defp eps(opts), do: (opts[:eps] || 0.0) * 1.0

  ## Composite operations

  def block(name, out, args, _default)
      when name in [:cholesky, :determinant, :solve, :qr, :eigh, :svd, :fft2, :ifft2] do
    apply(__MODULE__, name, [out | args])
  end

  def block(:invert, %T{type: type} = out, [tensor], _default) do
    to_nx(call(:t_invert, tensor, [ref(tensor), type_code(type)]), out, tensor)
  end

  def block(:pinv, %T{type: type} = out, [tensor, opts], _default) do
    to_nx(call(:t_pinv, tensor, [ref(tensor), eps(opts), type_code(type)]), out, tensor)
  end

  def block(:matrix_rank, %T{type: type} = out, [tensor, opts], _default) do
    to_nx(call(:t_matrix_rank, tensor, [ref(tensor), eps(opts), type_code(type)]), out, tensor)
  end

  def block(:least_squares, %T{type: type} = out, [a, b, opts], _default) do
    to_nx(call(:t_least_squares, a, [ref(a), ref(b), eps(opts), type_code(type)]), out, a)
  end

  def block(op, %T{type: type} = out, [tensor, opts], _default) when op in [:rfft, :irfft] do
    args = [ref(tensor), opts[:length], opts[:axis], eps(opts), type_code(type)]
    to_nx(apply(NIF, pick(:"t_#{op}", out), args), out, tensor)
  end

  def block(_name, _out, _args, _default), do: :default

  ## Helpers

  # Dirty schedulers for factorizations whose cost (elements times the matrix size) is large.
  defp call(name, %T{shape: shape}, args) do
    size = Nx.size(shape)
    n = if tuple_size(shape) > 0, do: elem(shape, tuple_size(shape) - 1), else: 1
    name = if size * n >= @dirty_cost, do: :"#{name}_dirty", else: name
    apply(NIF, name, args)
  end

  defp pick(name, %T{shape: shape}) do
    if Nx.size(shape) >= Nx.Torch.Backend.dirty_threshold(), do: :"#{name}_dirty", else: name
  end

  defp to_nx(ref, %T{} = out, %T{data: %Nx.Torch.Backend{device: device}}) do
    %{out | data: %Nx.Torch.Backend{ref: ref, device: device}}
  end
end
