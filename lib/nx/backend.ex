defmodule Nx.Backend do
  @moduledoc """
  The behaviour that tensor backends implement.

  The `Nx` module validates arguments and computes the type, shape and names
  of every result before it calls a backend: each callback receives that
  result as an `out` template (a tensor whose `:data` is not filled in) and
  only has to compute the values. Backends must return a tensor with exactly
  the `out` type and shape.

  This project ships:

    * `Nx.Torch.Backend` - tensors held by LibTorch on the CPU or a CUDA
      device; the default backend.
    * `Nx.TemplateBackend` - tensors without data, used as templates.
    * `Nx.Defn.Expr` - the backend that records expressions inside `defn`.

  Composite operations (for example most of `Nx.LinAlg`) call the optional
  `c:block/4` callback first; a backend that does not implement it, or
  returns `:default`, gets the default implementation written with other
  `Nx` calls. The older `c:optional/3` callback is honoured the same way.
  """

  @type t :: %{__struct__: atom()}
  @type tensor :: Nx.Tensor.t()
  @type shape :: Nx.Tensor.shape()
  @type axis :: Nx.Tensor.axis()
  @type axes :: Nx.Tensor.axes()
  @type backend_options :: term()

  @callback init(keyword()) :: backend_options

  @callback constant(out :: tensor, number | Complex.t(), backend_options) :: tensor
  @callback from_binary(out :: tensor, binary, backend_options) :: tensor
  @callback eye(tensor, backend_options) :: tensor
  @callback iota(tensor, axis | nil, backend_options) :: tensor

  @callback backend_deallocate(tensor) :: :ok | :already_deallocated
  @callback backend_copy(tensor, module, backend_options) :: tensor
  @callback backend_transfer(tensor, module, backend_options) :: tensor
  @callback to_batched(out :: tensor, tensor, keyword) :: [tensor]
  @callback to_binary(tensor, limit :: non_neg_integer) :: binary
  @callback inspect(tensor, Inspect.Opts.t()) :: Inspect.Algebra.t()
  @callback from_pointer(
              opaque_pointer :: term(),
              type :: tuple(),
              shape :: tuple(),
              backend_opts :: keyword(),
              opts :: keyword()
            ) :: {:ok, tensor} | {:error, term()}
  @callback to_pointer(tensor, opts :: keyword) :: {:ok, term()} | {:error, term()}

  @callback as_type(out :: tensor, tensor) :: tensor
  @callback bitcast(out :: tensor, tensor) :: tensor
  @callback reshape(out :: tensor, tensor) :: tensor
  @callback squeeze(out :: tensor, tensor, axes) :: tensor
  @callback broadcast(out :: tensor, tensor, shape, axes) :: tensor
  @callback transpose(out :: tensor, tensor, axes) :: tensor
  @callback pad(out :: tensor, tensor, pad_value :: tensor, padding_config :: list()) :: tensor
  @callback reverse(out :: tensor, tensor, axes) :: tensor

  @callback dot(out :: tensor, tensor, axes, axes, tensor, axes, axes) :: tensor
  @callback clip(out :: tensor, tensor, min :: tensor, max :: tensor) :: tensor
  @callback slice(out :: tensor, tensor, list, list, list) :: tensor
  @callback put_slice(out :: tensor, tensor, tensor, list) :: tensor
  @callback gather(out :: tensor, input :: tensor, indices :: tensor, keyword) :: tensor
  @callback concatenate(out :: tensor, [tensor], axis) :: tensor
  @callback stack(out :: tensor, [tensor], axis) :: tensor
  @callback select(out :: tensor, tensor, tensor, tensor) :: tensor

  @callback conv(out :: tensor, tensor, kernel :: tensor, keyword) :: tensor
  @callback all(out :: tensor, tensor, keyword) :: tensor
  @callback any(out :: tensor, tensor, keyword) :: tensor
  @callback sum(out :: tensor, tensor, keyword) :: tensor
  @callback product(out :: tensor, tensor, keyword) :: tensor
  @callback reduce_max(out :: tensor, tensor, keyword) :: tensor
  @callback reduce_min(out :: tensor, tensor, keyword) :: tensor
  @callback argmax(out :: tensor, tensor, keyword) :: tensor
  @callback argmin(out :: tensor, tensor, keyword) :: tensor
  @callback reduce(out :: tensor, tensor, acc :: tensor, keyword, fun) :: tensor
  @callback window_reduce(out :: tensor, tensor, acc :: tensor, shape, keyword, fun) :: tensor
  @callback window_sum(out :: tensor, tensor, shape, keyword) :: tensor
  @callback window_product(out :: tensor, tensor, shape, keyword) :: tensor
  @callback window_max(out :: tensor, tensor, shape, keyword) :: tensor
  @callback window_min(out :: tensor, tensor, shape, keyword) :: tensor
  @callback sort(out :: tensor, tensor, keyword) :: tensor
  @callback argsort(out :: tensor, tensor, keyword) :: tensor
  @callback window_scatter_max(out :: tensor, tensor, tensor, tensor, shape, keyword) :: tensor
  @callback window_scatter_min(out :: tensor, tensor, tensor, tensor, shape, keyword) :: tensor
  @callback indexed_add(out :: tensor, tensor, indices :: tensor, updates :: tensor, keyword) ::
              tensor
  @callback indexed_put(out :: tensor, tensor, indices :: tensor, updates :: tensor, keyword) ::
              tensor

  @callback lu({p :: tensor, l :: tensor, u :: tensor}, tensor, keyword) :: tensor
  @callback triangular_solve(out :: tensor, a :: tensor, b :: tensor, keyword) :: tensor
  @callback svd({u :: tensor, s :: tensor, v :: tensor}, tensor, keyword) :: tensor

  @callback fft(out :: tensor, tensor, keyword) :: tensor
  @callback ifft(out :: tensor, tensor, keyword) :: tensor
  @callback fft2(out :: tensor, tensor, keyword) :: tensor
  @callback ifft2(out :: tensor, tensor, keyword) :: tensor

  @binary_ops [:add, :subtract, :multiply, :pow, :remainder, :divide, :atan2, :min, :max] ++
                [:quotient, :bitwise_and, :bitwise_or, :bitwise_xor, :left_shift] ++
                [:right_shift, :equal, :not_equal, :greater, :less, :greater_equal] ++
                [:less_equal, :logical_and, :logical_or, :logical_xor]

  @unary_math_ops [:exp, :expm1, :log, :log1p, :sigmoid, :cos, :sin, :tan, :cosh, :sinh] ++
                    [:tanh, :acos, :asin, :atan, :acosh, :asinh, :atanh, :sqrt, :rsqrt] ++
                    [:cbrt, :erf, :erfc, :erf_inv]

  @unary_ops @unary_math_ops ++
               [:abs, :bitwise_not, :ceil, :conjugate, :floor, :negate, :round, :sign] ++
               [:count_leading_zeros, :population_count, :real, :imag, :is_nan, :is_infinity]

  for op <- @binary_ops do
    @callback unquote(op)(out :: tensor, tensor, tensor) :: tensor
  end

  for op <- @unary_ops do
    @callback unquote(op)(out :: tensor, tensor) :: tensor
  end

  @doc """
  Invoked for composite operations that have a default implementation.

  `name` identifies the operation (for example `:cholesky` or
  `Nx.LinAlg.QR`), `args` are its arguments and `default` is a function
  that computes it with other `Nx` calls. A backend returns its own result,
  or calls `default` itself.
  """
  @callback block(name :: atom | struct, out :: term, args :: [term], default :: fun) :: term

  @doc "Older form of `c:block/4`, kept for backends written against it."
  @callback optional(atom, [term], fun) :: tensor

  @callback qr({q :: tensor, r :: tensor}, tensor, keyword) :: tensor
  @callback cholesky(out :: tensor, tensor) :: tensor
  @callback eigh({eigenvals :: tensor, eigenvecs :: tensor}, tensor, keyword) :: tensor
  @callback solve(out :: tensor, a :: tensor, b :: tensor) :: tensor
  @callback determinant(out :: tensor, t :: tensor) :: tensor
  @callback logical_not(out :: tensor, t :: tensor) :: tensor
  @callback phase(out :: tensor, t :: tensor) :: tensor
  @callback cumulative_sum(out :: tensor, t :: tensor, keyword) :: tensor
  @callback cumulative_product(out :: tensor, t :: tensor, keyword) :: tensor
  @callback cumulative_min(out :: tensor, t :: tensor, keyword) :: tensor
  @callback cumulative_max(out :: tensor, t :: tensor, keyword) :: tensor
  @callback all_close(out :: tensor, tensor, tensor, keyword) :: tensor
  @callback top_k(out :: tensor, tensor, keyword) :: tensor
  @callback take(out :: tensor, input :: tensor, indices :: tensor, keyword) :: tensor
  @callback take_along_axis(out :: tensor, input :: tensor, indices :: tensor, keyword) ::
              tensor

  @optional_callbacks [
    block: 4,
    optional: 3,
    from_pointer: 5,
    to_pointer: 2,
    solve: 3,
    determinant: 2,
    logical_not: 2,
    phase: 2,
    cumulative_sum: 3,
    cumulative_product: 3,
    cumulative_min: 3,
    cumulative_max: 3,
    all_close: 4,
    svd: 3,
    top_k: 3,
    fft2: 3,
    ifft2: 3,
    qr: 3,
    cholesky: 2,
    eigh: 3,
    take: 4,
    take_along_axis: 4
  ]

  @doc false
  def binary_ops, do: @binary_ops

  @doc false
  def unary_ops, do: @unary_ops

  @doc false
  def unary_math_ops, do: @unary_math_ops

  @doc """
  Renders tensor data for `inspect`, given the tensor and a binary with (at
  least the first `opts.limit` of) its elements in Nx's binary layout.

  Backends call it from their `c:inspect/2` callback.

  ## Examples

      iex> t = Nx.tensor([1, 2, 3])
      iex> Nx.Backend.inspect(t, Nx.to_binary(t), %Inspect.Opts{})
      ...> |> Inspect.Algebra.format(80)
      ...> |> IO.iodata_to_binary()
      "[1, 2, 3]"
  """
  @spec inspect(tensor, bitstring, Inspect.Opts.t()) :: Inspect.Algebra.t()
  def inspect(tensor, binary, opts), do: Nx.Tensor.Format.data(tensor, binary, opts)
end
