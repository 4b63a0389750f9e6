defmodule Nx.Torch.Backend do
  @moduledoc """
  The default backend: tensors held by LibTorch 2.11 on the CPU or on a
  CUDA device, computed by a Rust engine through NIFs.

      Nx.tensor([1, 2, 3], backend: {Nx.Torch.Backend, device: :cpu})

      # config/config.exs
      config :nx, default_backend: {Nx.Torch.Backend, device: :cuda}

  ## Options

    * `:device` - `:cpu` (the default), `:cuda` (CUDA device 0) or
      `{:cuda, index}`.

  ## How it differs from LibTorch

  The `Nx` module decides every result's type and shape; this backend makes
  LibTorch produce exactly that. Where LibTorch has no storage or no kernel
  for an Nx type it converts:

    * u16, u32 and u64 are stored bit for bit in LibTorch's signed type of
      the same width and widened before arithmetic;
    * s2, s4, u2 and u4 are stored one element per byte and packed in
      binaries exactly as Nx packs them;
    * float8 values are computed in f32, and so are f16 and bf16 on the CPU
      (the result is rounded back to the tensor's type);
    * u64 values keep their bits in LibTorch's int64: division, remainder,
      comparison, max/min, right shift and pow are computed as unsigned;
    * integers of different types compare by value;
    * integer division never traps: `quotient` by zero gives -1 (all bits
      set, the maximum of unsigned types), `remainder` by zero gives the
      dividend, and the smallest signed value divided by -1 wraps around, as
      XLA defines them;
    * `round` rounds halves away from zero, as Nx.

  The BEAM does not see the memory of tensors, only their small handles, so
  a process that creates large tensors in a loop would not be garbage
  collected in time. Each process therefore counts the bytes of the large
  tensors it creates and runs a garbage collection of itself after every
  256 MiB (`config :nx, torch_gc_bytes: n`), which frees the tensors it no
  longer references.

  Small operations run on normal schedulers; operations whose output has at
  least #{65_536} elements run on dirty CPU schedulers (see
  `dirty_threshold/0`), and transfers on dirty IO schedulers.
  """

  @behaviour Nx.Backend

  @enforce_keys [:ref]
  defstruct [:ref, device: :cpu]

  @type device :: :cpu | {:cuda, non_neg_integer}
  @type t :: %__MODULE__{ref: reference, device: device}

  alias Nx.Tensor, as: T
  alias Nx.Torch.NIF

  # Outputs with at least this many elements go to dirty schedulers. Measured on the build
  # machine (f32 -> f64 as_type, 200 calls each): 16,384 elements take 67 µs on a normal
  # scheduler and 95 µs on a dirty one; 65,536 take 196 µs and 385 µs; 262,144 take 538 µs and
  # 1.3 ms. A normal scheduler should not be held for more than ~200 µs, and below that the
  # dirty dispatch costs more than it saves: the crossover is 2^16 elements.
  @dirty_threshold 65_536

  @doc """
  The number of output elements from which operations run on dirty
  schedulers.

      iex> Nx.Torch.Backend.dirty_threshold()
      65536
  """
  @spec dirty_threshold() :: pos_integer
  def dirty_threshold, do: @dirty_threshold

  ## Types and devices at the NIF boundary

  @types [
    {:s, 2},
    {:s, 4},
    {:s, 8},
    {:s, 16},
    {:s, 32},
    {:s, 64},
    {:u, 2},
    {:u, 4},
    {:u, 8},
    {:u, 16},
    {:u, 32},
    {:u, 64},
    {:f, 8},
    {:f8_e4m3fn, 8},
    {:f, 16},
    {:bf, 16},
    {:f, 32},
    {:f, 64},
    {:c, 64},
    {:c, 128}
  ]

  for {type, code} <- Enum.with_index(@types) do
    @doc false
    def type_code(unquote(type)), do: unquote(code)
  end

  def type_code(type), do: raise(ArgumentError, "unsupported type #{inspect(type)}")

  @doc false
  def device_code(:cpu), do: -1
  def device_code(:cuda), do: 0
  def device_code({:cuda, n}) when is_integer(n) and n >= 0, do: n

  def device_code(other) do
    raise ArgumentError,
          "invalid device #{inspect(other)}, expected :cpu, :cuda or {:cuda, index}"
  end

  defp normalize_device(:cuda), do: {:cuda, 0}
  defp normalize_device(device), do: device_code(device) && device

  ## Creation

  @impl true
  def init(opts) do
    opts = Keyword.validate!(opts, device: :cpu)
    Keyword.update!(opts, :device, &normalize_device/1)
  end

  @impl true
  def constant(%T{shape: shape, type: type} = out, number, opts) do
    scalar = from_binary(%{out | shape: {}, names: []}, Nx.Shared.encode(number, type), opts)

    if shape == {} do
      scalar
    else
      to_nx(NIF.t_broadcast(ref(scalar), shape, []), out, scalar)
    end
  end

  @impl true
  def from_binary(%T{shape: shape, type: type} = out, binary, opts) do
    device = Keyword.get(opts, :device, :cpu)
    size = Nx.size(shape)
    binary = pad_to_bytes(binary)

    ref =
      if size >= @dirty_threshold,
        do: NIF.t_from_binary_dirty(binary, type_code(type), shape, device_code(device)),
        else: NIF.t_from_binary(binary, type_code(type), shape, device_code(device))

    wrap(ref, out, device)
  end

  defp pad_to_bytes(binary) when is_binary(binary), do: binary

  defp pad_to_bytes(bits) do
    pad = 8 - rem(bit_size(bits), 8)
    <<bits::bitstring, 0::size(pad)>>
  end

  @impl true
  def iota(%T{shape: shape, type: type} = out, axis, opts) do
    device = Keyword.get(opts, :device, :cpu)
    args = [shape, axis || -1, type_code(type), device_code(device)]
    ref = apply(NIF, pick(:t_iota, out), args)
    wrap(ref, out, device)
  end

  @impl true
  def eye(%T{shape: shape, type: type} = out, opts) do
    device = Keyword.get(opts, :device, :cpu)
    ref = apply(NIF, pick(:t_eye, out), [shape, type_code(type), device_code(device)])
    wrap(ref, out, device)
  end

  ## Memory and transfer

  @impl true
  def backend_deallocate(%T{data: %__MODULE__{ref: ref}}), do: NIF.t_deallocate(ref)

  @impl true
  def backend_copy(%T{data: %__MODULE__{ref: ref}} = tensor, __MODULE__, opts) do
    device = opts |> init() |> Keyword.fetch!(:device)
    # Tensors are immutable, so a copy on the same device can share storage.
    %{tensor | data: %__MODULE__{ref: NIF.t_to_device(ref, device_code(device)), device: device}}
  end

  def backend_copy(tensor, backend, opts) do
    backend.from_binary(tensor, to_binary(tensor, Nx.size(tensor)), opts)
  end

  @impl true
  def backend_transfer(tensor, backend, opts) do
    result = backend_copy(tensor, backend, opts)

    if result.data != tensor.data do
      backend_deallocate(tensor)
    end

    result
  end

  @impl true
  def to_binary(%T{data: %__MODULE__{ref: ref}, type: {_, bits}} = tensor, limit) do
    size = Nx.size(tensor)
    limit = if limit >= size, do: -1, else: limit
    count = if limit < 0, do: size, else: limit

    binary =
      if count >= @dirty_threshold,
        do: NIF.t_to_binary_dirty(ref, limit),
        else: NIF.t_to_binary(ref, limit)

    if bits < 8 do
      <<packed::bitstring-size(count * bits), _::bitstring>> = binary
      packed
    else
      binary
    end
  end

  @impl true
  def inspect(%T{} = tensor, inspect_opts) do
    limit = if inspect_opts.limit == :infinity, do: Nx.size(tensor), else: inspect_opts.limit + 1
    binary = to_binary(tensor, min(limit, Nx.size(tensor)))
    Nx.Backend.inspect(tensor, binary, inspect_opts)
  end

  # Batches are slices along axis 0, made lazily; with leftover: :repeat the last one is the
  # tail followed by the first rows.
  @impl true
  def to_batched(%T{shape: out_shape} = out, %T{shape: shape} = tensor, opts) do
    total = elem(shape, 0)
    batch = elem(out_shape, 0)
    [_ | rest] = Tuple.to_list(shape)
    zeros = Enum.map(rest, fn _ -> 0 end)
    ones = Enum.map(shape |> Tuple.to_list(), fn _ -> 1 end)
    full = div(total, batch)
    count = if rem(total, batch) != 0 and opts[:leftover] == :repeat, do: full + 1, else: full

    rows = fn start, len ->
      slice(
        %{out | shape: put_elem(out_shape, 0, len)},
        tensor,
        [start | zeros],
        [len | rest],
        ones
      )
    end

    Stream.map(0..(count - 1)//1, fn index ->
      start = index * batch

      if start + batch <= total do
        rows.(start, batch)
      else
        tail = total - start
        concatenate(out, [rows.(start, tail), rows.(0, batch - tail)], 0)
      end
    end)
  end

  # Pointers: the data as LibTorch holds it (Nx's layout for every type but the sub-byte ones,
  # which it stores one element per byte and which are refused). from_pointer copies.
  @impl true
  def to_pointer(%T{data: %__MODULE__{ref: ref}}, opts) do
    case Keyword.get(opts, :mode, :local) do
      :local ->
        {address, size} = NIF.t_to_pointer(ref)
        {:ok, %Nx.Pointer{kind: :local, address: address, data_size: size}}

      mode ->
        {:error, "Nx.Torch.Backend supports only mode: :local pointers, got: #{inspect(mode)}"}
    end
  rescue
    error in ArgumentError -> {:error, Exception.message(error)}
  end

  @impl true
  def from_pointer(%Nx.Pointer{kind: :local} = pointer, type, shape, backend_opts, opts) do
    %Nx.Pointer{address: address, data_size: size} = pointer

    if is_integer(address) and address >= 0 and is_integer(size) and size >= 0 do
      device = Keyword.get(backend_opts, :device, :cpu)
      out = %T{type: type, shape: shape, names: opts[:names] || names_for(shape)}
      ref = NIF.t_from_pointer(address, size, type_code(type), shape, device_code(device))
      {:ok, wrap(ref, out, normalize_device(device))}
    else
      {:error, "expected a pointer with a non-negative integer address and data_size"}
    end
  rescue
    error in ArgumentError -> {:error, Exception.message(error)}
  end

  def from_pointer(%Nx.Pointer{kind: kind}, _type, _shape, _backend_opts, _opts) do
    {:error, "Nx.Torch.Backend supports only :local pointers, got kind #{inspect(kind)}"}
  end

  defp names_for(shape), do: List.duplicate(nil, tuple_size(shape))

  ## Conversion and shape

  @impl true
  def as_type(%T{type: type} = out, %T{type: type} = tensor), do: %{tensor | names: out.names}

  def as_type(%T{type: type} = out, tensor) do
    to_nx(apply(NIF, pick(:t_as_type, out), [ref(tensor), type_code(type)]), out, tensor)
  end

  @impl true
  def bitcast(%T{type: type} = out, tensor) do
    to_nx(apply(NIF, pick(:t_bitcast, out), [ref(tensor), type_code(type)]), out, tensor)
  end

  @impl true
  def reshape(%T{shape: shape} = out, tensor),
    do: to_nx(NIF.t_reshape(ref(tensor), shape), out, tensor)

  @impl true
  def squeeze(out, tensor, _axes), do: reshape(out, tensor)

  @impl true
  def broadcast(%T{shape: shape} = out, tensor, shape, axes) do
    to_nx(NIF.t_broadcast(ref(tensor), shape, axes), out, tensor)
  end

  @impl true
  def transpose(out, tensor, axes), do: to_nx(NIF.t_transpose(ref(tensor), axes), out, tensor)

  ## Aggregates

  for op <- [:sum, :reduce_max, :reduce_min] do
    @impl true
    def unquote(op)(%T{type: type} = out, tensor, opts) do
      args = [unquote(op), ref(tensor), opts[:axes], opts[:keep_axes], type_code(type)]

      ref =
        case pick(:t_reduce, tensor) do
          # large f32 reductions of the last axis may be deferred: tried on this scheduler
          :t_reduce_dirty when type == {:f, 32} ->
            deferred(:t_reduce_defer, :t_reduce_dirty, args)

          nif ->
            apply(NIF, nif, args)
        end

      to_nx(ref, out, tensor)
    end
  end

  for op <- [:product, :all, :any] do
    @impl true
    def unquote(op)(%T{type: type} = out, tensor, opts) do
      args = [unquote(op), ref(tensor), opts[:axes], opts[:keep_axes], type_code(type)]
      to_nx(apply(NIF, pick(:t_reduce, tensor), args), out, tensor)
    end
  end

  # Large f32 element-wise work is usually deferred (see Nx.Torch, "Deferred element-wise
  # work"), which takes microseconds: the normal-scheduler NIF `try_nif` builds the deferred
  # result when it can without computing anything, and only otherwise does `dirty_nif` run.
  defp deferred(try_nif, dirty_nif, args) do
    case apply(NIF, try_nif, args) do
      :dirty -> apply(NIF, dirty_nif, args)
      ref -> ref
    end
  end

  @impl true
  def argmax(out, tensor, opts), do: arg_reduce(true, out, tensor, opts)

  @impl true
  def argmin(out, tensor, opts), do: arg_reduce(false, out, tensor, opts)

  defp arg_reduce(max?, %T{type: type} = out, tensor, opts) do
    args = [
      max?,
      ref(tensor),
      opts[:axis] || -1,
      opts[:keep_axis],
      opts[:tie_break] == :high,
      type_code(type)
    ]

    to_nx(apply(NIF, pick(:t_arg_reduce, tensor), args), out, tensor)
  end

  ## Contractions and order

  @impl true
  def dot(%T{type: type} = out, t1, c1, b1, t2, c2, b2) do
    args = [ref(t1), c1, b1, ref(t2), c2, b2, type_code(type)]
    to_nx(apply(NIF, pick(:t_dot, out), args), out, t1)
  end

  @impl true
  def sort(out, tensor, opts) do
    args = [ref(tensor), opts[:axis], opts[:direction] == :desc, opts[:stable] || false]
    to_nx(apply(NIF, pick(:t_sort, tensor), args), out, tensor)
  end

  @impl true
  def argsort(%T{type: type} = out, tensor, opts) do
    args = [ref(tensor), opts[:axis], opts[:direction] == :desc, opts[:stable] || false]
    to_nx(apply(NIF, pick(:t_argsort, tensor), args ++ [type_code(type)]), out, tensor)
  end

  @impl true
  def top_k({values, %T{type: type} = indices}, tensor, opts) do
    {v, i} = apply(NIF, pick(:t_top_k, tensor), [ref(tensor), opts[:k], type_code(type)])
    {to_nx(v, values, tensor), to_nx(i, indices, tensor)}
  end

  for op <- [:cumulative_sum, :cumulative_product, :cumulative_max, :cumulative_min] do
    @impl true
    def unquote(op)(%T{type: type} = out, tensor, opts) do
      args = [unquote(op), ref(tensor), opts[:axis], opts[:reverse], type_code(type)]
      to_nx(apply(NIF, pick(:t_cumulative, tensor), args), out, tensor)
    end
  end

  ## Element-wise

  # One NIF per family: the op travels as an atom (the Nx function name) and the engine
  # converts each input from its own type, so the output template's type is all it needs.

  for op <- Nx.Backend.binary_ops() do
    @impl true
    def unquote(op)(out, left, right), do: binary_op(unquote(op), out, left, right)
  end

  for op <- Nx.Backend.unary_ops() ++ [:logical_not] do
    @impl true
    def unquote(op)(out, tensor), do: unary_op(unquote(op), out, tensor)
  end

  @deferrable_binary [:add, :subtract, :multiply, :divide, :max, :min]
  @deferrable_unary [:negate, :abs, :exp, :log, :tanh, :sigmoid, :sqrt, :rsqrt]

  defp binary_op(op, %T{type: type, shape: shape} = out, left, right) do
    args = [op, ref(left), ref(right), type_code(type)]

    ref =
      cond do
        not dirty?(shape) ->
          apply(NIF, :t_binary, args)

        type == {:f, 32} and op in @deferrable_binary ->
          deferred(:t_binary_defer, :t_binary_dirty, args)

        true ->
          apply(NIF, :t_binary_dirty, args)
      end

    wrap(ref, out, device([left, right]))
  end

  defp unary_op(op, %T{type: type, shape: shape} = out, tensor) do
    args = [op, ref(tensor), type_code(type)]

    ref =
      cond do
        not dirty?(shape) ->
          apply(NIF, :t_unary, args)

        type == {:f, 32} and op in @deferrable_unary ->
          deferred(:t_unary_defer, :t_unary_dirty, args)

        true ->
          apply(NIF, :t_unary_dirty, args)
      end

    to_nx(ref, out, tensor)
  end

  @impl true
  def select(%T{type: type, shape: shape} = out, pred, on_true, on_false) do
    args = [ref(pred), ref(on_true), ref(on_false), type_code(type), shape]
    wrap(apply(NIF, pick(:t_select, out), args), out, device([pred, on_true, on_false]))
  end

  @impl true
  def clip(%T{type: type} = out, tensor, min, max) do
    args = [ref(tensor), ref(min), ref(max), type_code(type)]
    wrap(apply(NIF, pick(:t_clip, out), args), out, device([tensor, min, max]))
  end

  defp dirty?({}), do: false
  defp dirty?({n}), do: n >= @dirty_threshold
  defp dirty?(shape), do: Nx.size(shape) >= @dirty_threshold

  # The engine runs on the device of the first input that is not a single element (single
  # elements, such as numbers turned into scalars, are moved there).
  defp device([%T{data: %__MODULE__{device: d}}, %T{data: %__MODULE__{device: d}}]), do: d

  defp device([first | _] = tensors) do
    %T{data: %__MODULE__{device: device}} = Enum.find(tensors, first, &(Nx.size(&1.shape) != 1))

    device
  end

  ## Indexing and slicing

  # Index values are validated and clamped by the engine before LibTorch sees them; dynamic
  # start indices (scalar tensors) are read here and clamped like integer ones.

  @indexing_callbacks [:pad, :reverse, :slice, :put_slice, :gather, :concatenate, :stack] ++
                        [:indexed_add, :indexed_put, :take, :take_along_axis]

  @impl true
  def reverse(out, tensor, axes),
    do: to_nx(apply(NIF, pick(:t_reverse, out), [ref(tensor), axes]), out, tensor)

  @impl true
  def pad(%T{type: type} = out, tensor, pad_value, config) do
    args = [ref(tensor), ref(pad_value), config, type_code(type)]
    to_nx(apply(NIF, pick(:t_pad, out), args), out, tensor)
  end

  @impl true
  def slice(out, %T{shape: shape} = tensor, starts, lengths, strides) do
    starts = static_starts(shape, starts, lengths)
    to_nx(NIF.t_slice(ref(tensor), starts, lengths, strides), out, tensor)
  end

  @impl true
  def put_slice(%T{type: type} = out, %T{shape: shape} = tensor, starts, slice) do
    starts = static_starts(shape, starts, Tuple.to_list(slice.shape))
    args = [ref(tensor), starts, ref(slice), type_code(type)]
    to_nx(apply(NIF, pick(:t_put_slice, out), args), out, tensor)
  end

  defp static_starts(shape, starts, lengths) do
    [Tuple.to_list(shape), starts, lengths]
    |> Enum.zip_with(fn [dim, start, len] ->
      start = if is_integer(start), do: start, else: Nx.to_number(start)
      start |> max(0) |> min(dim - len)
    end)
  end

  @impl true
  def gather(out, tensor, indices, opts) do
    args = [ref(tensor), ref(indices), opts[:axes]]
    to_nx(apply(NIF, pick(:t_gather, out), args), out, tensor)
  end

  @impl true
  def take(out, tensor, indices, opts) do
    args = [ref(tensor), ref(indices), opts[:axis]]
    to_nx(apply(NIF, pick(:t_take, out), args), out, tensor)
  end

  @impl true
  def take_along_axis(out, tensor, indices, opts) do
    args = [ref(tensor), ref(indices), opts[:axis]]
    to_nx(apply(NIF, pick(:t_take_along_axis, out), args), out, tensor)
  end

  @impl true
  def indexed_add(out, target, indices, updates, opts),
    do: indexed(true, out, target, indices, updates, opts)

  @impl true
  def indexed_put(out, target, indices, updates, opts),
    do: indexed(false, out, target, indices, updates, opts)

  defp indexed(accumulate?, %T{type: type} = out, target, indices, updates, opts) do
    args = [accumulate?, ref(target), ref(indices), ref(updates), opts[:axes], type_code(type)]
    to_nx(apply(NIF, pick(:t_indexed, out), args), out, target)
  end

  @impl true
  def concatenate(%T{type: type} = out, [first | _] = tensors, axis) do
    args = [Enum.map(tensors, &ref/1), axis, type_code(type)]
    to_nx(apply(NIF, pick(:t_concatenate, out), args), out, first)
  end

  @impl true
  def stack(%T{type: type} = out, [first | _] = tensors, axis) do
    args = [Enum.map(tensors, &ref/1), axis, type_code(type)]
    to_nx(apply(NIF, pick(:t_stack, out), args), out, first)
  end

  ## Reductions with an Elixir function

  # Runs the function element by element on scalar tensors: there is no kernel to hand an
  # arbitrary Elixir function to. Reduced axes are moved last and flattened, so each output
  # element folds one contiguous row.
  @impl true
  def reduce(%T{type: type, shape: out_shape} = out, tensor, acc, opts, fun) do
    axes = opts[:axes]
    %T{shape: shape} = tensor
    rank = tuple_size(shape)
    kept = Enum.to_list(0..(rank - 1)//1) -- axes
    row = Enum.reduce(axes, 1, &(elem(shape, &1) * &2))
    rows = div(Nx.size(shape), max(row, 1))

    flat =
      tensor
      |> Nx.transpose(axes: kept ++ axes)
      |> Nx.reshape({rows, row})

    values =
      for r <- 0..(rows - 1)//1 do
        line = flat |> Nx.slice([r, 0], [1, row]) |> Nx.reshape({row})

        Enum.reduce(0..(row - 1)//1, Nx.as_type(acc, type), fn i, acc ->
          fun.(Nx.slice(line, [i], [1]) |> Nx.reshape({}), acc) |> Nx.as_type(type)
        end)
      end

    values
    |> Nx.stack()
    |> Nx.reshape(out_shape)
    |> then(&%{out | data: &1.data})
  end

  ## Linear algebra and Fourier transforms

  # One NIF call each into LibTorch's linalg and fft routines; see Nx.Torch.Backend.LinAlg.
  @linalg_callbacks [cholesky: 2, qr: 3, eigh: 3, svd: 3, lu: 3, solve: 3] ++
                      [triangular_solve: 4, determinant: 2, fft: 3, ifft: 3, fft2: 3] ++
                      [ifft2: 3, block: 4]

  for {name, arity} <- @linalg_callbacks do
    args = Macro.generate_arguments(arity, __MODULE__)

    @impl true
    defdelegate unquote(name)(unquote_splicing(args)), to: Nx.Torch.Backend.LinAlg
  end

  ## Convolution and windows

  # One NIF call each: conv lowers to LibTorch's convolution (see native/nx_engine's ops/conv.rs),
  # window reductions unfold the padded input into a view of windows and reduce it. An Elixir
  # reducer folds the windows one element at a time, like reduce/5 above.

  @conv_window_callbacks [:conv, :window_sum, :window_product, :window_max, :window_min] ++
                           [:window_reduce, :window_scatter_max, :window_scatter_min]

  @impl true
  def conv(%T{type: type, shape: shape} = out, tensor, kernel, opts) do
    args = [
      ref(tensor),
      ref(kernel),
      opts[:strides],
      opts[:padding],
      opts[:input_dilation],
      opts[:kernel_dilation],
      {opts[:feature_group_size], opts[:batch_group_size]},
      {opts[:input_permutation], opts[:kernel_permutation], opts[:output_permutation]},
      type_code(type)
    ]

    # the work is the output size times the multiply-adds behind each output element
    filters = elem(kernel.shape, hd(opts[:kernel_permutation]))
    work = Nx.size(shape) * div(Nx.size(kernel.shape), max(filters, 1))
    nif = if work >= @dirty_threshold, do: :t_conv_dirty, else: :t_conv
    wrap(apply(NIF, nif, args), out, device([tensor, kernel]))
  end

  for op <- [:window_sum, :window_product, :window_max, :window_min] do
    @impl true
    def unquote(op)(%T{type: type} = out, tensor, window, opts) do
      args = [unquote(op), ref(tensor), window_spec(window, opts), type_code(type)]
      to_nx(apply(NIF, pick(:t_window_reduce, tensor), args), out, tensor)
    end
  end

  @impl true
  def window_reduce(%T{shape: out_shape} = out, %T{} = tensor, acc, window, opts, fun) do
    per_window = Nx.size(window)
    rows = Nx.size(out_shape)
    args = [ref(tensor), ref(acc), window_spec(window, opts)]
    ref = apply(NIF, pick(:t_windows, tensor), args)
    windows = to_nx(ref, %{tensor | shape: {rows, per_window}, names: [nil, nil]}, tensor)

    %{out | shape: {rows}, names: [nil]}
    |> reduce(windows, acc, [axes: [1], keep_axes: false], fun)
    |> Nx.reshape(out_shape)
    |> then(&%{out | data: &1.data})
  end

  @impl true
  def window_scatter_max(out, tensor, source, init_value, window, opts),
    do: window_scatter(true, out, tensor, source, init_value, window, opts)

  @impl true
  def window_scatter_min(out, tensor, source, init_value, window, opts),
    do: window_scatter(false, out, tensor, source, init_value, window, opts)

  defp window_scatter(max?, %T{type: type} = out, tensor, source, init_value, window, opts) do
    spec = window_spec(window, Keyword.put(opts, :window_dilations, nil))
    args = [max?, ref(tensor), ref(source), ref(init_value), spec, type_code(type)]
    to_nx(apply(NIF, pick(:t_window_scatter, tensor), args), out, tensor)
  end

  defp window_spec(window, opts) do
    rank = tuple_size(window)

    {Tuple.to_list(window), opts[:strides] || List.duplicate(1, rank),
     opts[:padding] || List.duplicate({0, 0}, rank),
     opts[:window_dilations] || List.duplicate(1, rank)}
  end

  ## Operations of the later API issues

  for {name, arity} <- Nx.Backend.behaviour_info(:callbacks),
      name not in [
        :init,
        :constant,
        :from_binary,
        :iota,
        :eye,
        :backend_deallocate,
        :backend_copy,
        :backend_transfer,
        :to_binary,
        :inspect,
        :to_batched,
        :from_pointer,
        :to_pointer,
        :as_type,
        :bitcast,
        :reshape,
        :squeeze,
        :broadcast,
        :transpose,
        :sum,
        :product,
        :reduce_max,
        :reduce_min,
        :all,
        :any,
        :argmax,
        :argmin,
        :reduce,
        :dot,
        :sort,
        :argsort,
        :block,
        :optional
      ],
      name not in (Nx.Backend.binary_ops() ++ Nx.Backend.unary_ops() ++ [:select, :clip]),
      name not in @indexing_callbacks,
      name not in @conv_window_callbacks,
      name not in Keyword.keys(@linalg_callbacks),
      name not in Keyword.keys(Nx.Backend.behaviour_info(:optional_callbacks)) do
    args = Macro.generate_arguments(arity, __MODULE__)

    @impl true
    def unquote(name)(unquote_splicing(args)) do
      _ = {unquote_splicing(args)}

      raise ArgumentError,
            "Nx.Torch.Backend does not implement #{unquote(name)}/#{unquote(arity)} yet"
    end
  end

  ## Helpers

  defp pick(name, %T{shape: shape}) do
    if Nx.size(shape) >= @dirty_threshold, do: :"#{name}_dirty", else: name
  end

  @doc false
  def ref(%T{data: %__MODULE__{ref: ref}}), do: ref

  def ref(%T{data: %other{}}) do
    raise ArgumentError,
          "expected a tensor of Nx.Torch.Backend, got one of #{inspect(other)}; " <>
            "use Nx.backend_transfer/2 first"
  end

  defp wrap(ref, %T{shape: shape, type: {_, bits}} = out, device) do
    account(Nx.size(shape) * bits)
    %{out | data: %__MODULE__{ref: ref, device: device}}
  end

  # The BEAM does not see a tensor's memory (only a small resource handle), so a process can
  # hold gigabytes of garbage tensors without ever being garbage collected. Each process counts
  # the bytes of the large tensors it creates and collects itself after every
  # `:torch_gc_bytes` of them (256 MiB by default), which releases the unreferenced ones.
  @gc_key {__MODULE__, :allocated_bits}
  @small_bits 65_536 * 8

  defp account(bits) when bits < @small_bits, do: :ok

  defp account(bits) do
    total = Process.get(@gc_key, 0) + bits

    if total >= gc_threshold_bits() do
      Process.put(@gc_key, 0)
      :erlang.garbage_collect()
    else
      Process.put(@gc_key, total)
    end

    :ok
  end

  defp gc_threshold_bits, do: Application.get_env(:nx, :torch_gc_bytes, 268_435_456) * 8

  defp to_nx(ref, %T{} = out, %T{data: %__MODULE__{device: device}}), do: wrap(ref, out, device)
end
