defmodule Nx.Serialize do
  @moduledoc """
  Nx's own serialization format, behind `Nx.serialize/2` and `Nx.deserialize/2`.

  ## Layout

  A serialized value is, byte for byte, what Nx writes:

  | bytes | content |
  | --- | --- |
  | 2 | `"nx"` |
  | 1 | format version, `1` |
  | 1 | byte order of the tensor data: `0` little endian, `1` big endian |
  | 8 | `n`, the size of the term that follows (unsigned, big endian) |
  | `n` | an Erlang external term (`:erlang.term_to_iovec/2`, optionally compressed) describing the value |
  | rest | the tensors' data, one after the other |

  The term describes a tensor as `{:t, shape, type, names, vectorized_axes, offset, size}`:
  `shape`, `names` and `vectorized_axes` are those of the tensor with its vectorized axes
  turned into leading axes, and its data is the `size` bytes at `offset` in the data part,
  laid out as `Nx.to_binary/1` returns it (sub-byte types are padded to a whole byte).
  Numbers are written as scalar tensors. A container is `{impl, pairs, metadata}`, where
  `impl` is the `Nx.Container` implementation module: `{Nx.Container.Tuple, [{[], value},
  ...], :ok}` for tuples, `{Nx.Container.Map, [{key, value}, ...], :ok}` for maps and
  `{Nx.Container.SomeStruct, [field: value, ...], [kept_field: value, ...]}` for structs
  that derive `Nx.Container`.

  The older format of Nx 0.5 and earlier (a bare external term `{1, endianness, term}`
  with `{:tensor, shape, type, names, binary}` leaves) is read too.

  ## Untrusted input

  `deserialize/2` decodes the term with `:erlang.binary_to_term(data, [:safe])` and checks
  everything it finds before it allocates a tensor:

    * it never creates atoms: a term naming an atom this VM does not know (an axis name, a
      map key, a struct or module name) is refused with an `ArgumentError`, as is anything
      `:safe` refuses. Make such atoms exist (for example by loading the module that uses
      them) before deserializing data that carries them;
    * every tensor must have a known type, a shape of non-negative integers, one name (an
      atom or `nil`) per axis, and exactly `Nx.size(shape) * bits / 8` bytes (rounded up)
      inside the data part;
    * only the `Nx.Container` implementations of tuples, maps, and structs that derive
      `Nx.Container` (checked through the protocol) are rebuilt, with known fields only;
    * a compressed term may not claim to inflate beyond what zlib can produce.

  Anything else raises `ArgumentError`.
  """

  alias Nx.Tensor, as: T

  @prefix "nx"
  @version 1

  # Deflate cannot expand data by more than about 1032:1.
  @max_inflation 1032

  ## Serialization

  @doc """
  Serializes a tensor, a number or a container of them to iodata (see `Nx.serialize/2`).

  ## Options

    * `:compressed` - `true` or a zlib level from `0` to `9`: compresses the term part
      (the tensor data itself is not compressed). Defaults to no compression.

  ## Examples

      iex> iodata = Nx.Serialize.serialize(Nx.tensor([1, 2], type: :u8))
      iex> <<"nx", 1, _endianness, size::64, _term::binary-size(size), data::binary>> =
      ...>   IO.iodata_to_binary(iodata)
      iex> data
      <<1, 2>>
  """
  @spec serialize(Nx.Container.t() | Nx.t(), keyword) :: iodata
  def serialize(data, opts \\ []) do
    term_opts = term_options!(opts)
    {term, {binaries, _offset}} = to_term(data, {[], 0})
    term = :erlang.term_to_iovec(term, term_opts)
    size = IO.iodata_length(term)
    header = <<@prefix, @version, endianness_byte(System.endianness()), size::64>>
    [header, term | Enum.reverse(binaries)]
  end

  defp term_options!(opts) when is_list(opts) do
    Enum.flat_map(opts, fn
      {:compressed, level} when is_integer(level) and level in 0..9 -> [{:compressed, level}]
      {:compressed, true} -> [:compressed]
      {:compressed, false} -> []
      :compressed -> [:compressed]
      other -> raise ArgumentError, "unknown option for Nx.serialize/2: #{inspect(other)}"
    end)
  end

  defp term_options!(other),
    do: raise(ArgumentError, "expected a keyword list of options, got: #{inspect(other)}")

  defp endianness_byte(:little), do: 0
  defp endianness_byte(:big), do: 1

  defp to_term(%T{} = tensor, acc) do
    %T{shape: shape, names: names, type: type, vectorized_axes: vectorized} = tensor
    {vec_names, vec_sizes} = Enum.unzip(vectorized)
    full_shape = List.to_tuple(vec_sizes ++ Tuple.to_list(shape))
    full_names = vec_names ++ names

    binary =
      %{tensor | shape: full_shape, names: full_names, vectorized_axes: []}
      |> Nx.to_binary()
      |> pad_to_bytes()

    leaf({:t, full_shape, type, full_names, vectorized}, binary, acc)
  end

  defp to_term(number, acc) when is_number(number) or is_struct(number, Complex) do
    type = Nx.Type.infer(number)
    leaf({:t, {}, type, [], []}, Nx.Shared.encode(number, type), acc)
  end

  defp to_term(tuple, acc) when is_tuple(tuple) do
    {pairs, acc} =
      tuple
      |> Tuple.to_list()
      |> Enum.map_reduce(acc, fn value, acc ->
        {value, acc} = to_term(value, acc)
        {{[], value}, acc}
      end)

    {{Nx.Container.Tuple, pairs, :ok}, acc}
  end

  defp to_term(%module{} = struct, acc) do
    {containers, keep} = struct_fields(module, struct)

    {pairs, acc} =
      Enum.map_reduce(containers, acc, fn field, acc ->
        {value, acc} = to_term(Map.fetch!(struct, field), acc)
        {{field, value}, acc}
      end)

    {{Nx.Container.impl_for(struct), pairs, Enum.map(keep, &{&1, Map.fetch!(struct, &1)})}, acc}
  end

  defp to_term(map, acc) when is_map(map) do
    {pairs, acc} =
      Enum.map_reduce(Map.to_list(map), acc, fn {key, value}, acc ->
        {value, acc} = to_term(value, acc)
        {{key, value}, acc}
      end)

    {{Nx.Container.Map, pairs, :ok}, acc}
  end

  defp to_term(other, _acc) do
    raise ArgumentError,
          "Nx.serialize/2 expects tensors, numbers or Nx.Container values (tuples, maps, " <>
            "structs deriving Nx.Container), got: #{inspect(other)}"
  end

  defp leaf({:t, shape, type, names, vectorized}, binary, {binaries, offset}) do
    size = byte_size(binary)
    {{:t, shape, type, names, vectorized, offset, size}, {[binary | binaries], offset + size}}
  end

  defp pad_to_bytes(binary) when is_binary(binary), do: binary

  defp pad_to_bytes(bits) do
    pad = 8 - rem(bit_size(bits), 8)
    <<bits::bitstring, 0::size(pad)>>
  end

  # The fields of a struct that derives Nx.Container, found through the protocol alone:
  # traversing a copy whose fields all hold unique markers shows which fields are
  # containers (their markers reach the function, in order) and which are kept (their
  # markers survive; the other fields are reset to their defaults).
  defp struct_fields(module, struct) do
    if Nx.Container.impl_for(struct) in [nil, Nx.Container.Any] do
      raise ArgumentError,
            "cannot serialize #{inspect(module)}: it does not implement Nx.Container"
    end

    fields = struct |> Map.keys() |> List.delete(:__struct__)
    markers = Map.new(fields, &{&1, {__MODULE__, make_ref()}})
    marked = Map.merge(struct, markers)
    by_marker = Map.new(markers, fn {field, marker} -> {marker, field} end)

    {traversed, seen} =
      Nx.Container.traverse(marked, [], fn value, seen -> {value, [value | seen]} end)

    containers = seen |> Enum.reverse() |> Enum.map(&Map.fetch!(by_marker, &1))

    keep =
      for field <- fields,
          field not in containers,
          Map.get(traversed, field) == Map.fetch!(markers, field),
          do: field

    {containers, Enum.sort(keep)}
  end

  ## Deserialization

  @doc """
  Deserializes what `serialize/2` (or Nx) wrote (see `Nx.deserialize/2`).

  `opts` may only hold `:safe`, which is always in effect.

  ## Examples

      iex> {a, b} = Nx.Serialize.deserialize(Nx.Serialize.serialize({1, 2.0}))
      iex> {Nx.to_number(a), Nx.to_number(b)}
      {1, 2.0}

      iex> Nx.Serialize.deserialize("not nx")
      ** (ArgumentError) unable to deserialize: the data is not in Nx's serialization format
  """
  @spec deserialize(iodata, list) :: Nx.Container.t() | Nx.Tensor.t()
  def deserialize(data, opts \\ []) do
    unless is_list(opts) and Enum.all?(opts, &(&1 == :safe)) do
      raise ArgumentError,
            "Nx.deserialize/2 only accepts [:safe] as options, got: #{inspect(opts)}"
    end

    data |> to_binary!() |> decode()
  rescue
    # A backstop for untrusted input: any shape of term the checks above did not foresee is
    # malformed data, never a crash of another kind.
    error in [FunctionClauseError, CaseClauseError, MatchError, KeyError, BadMapError] ->
      raise ArgumentError, "Nx.deserialize/2 got malformed data (#{Exception.message(error)})"
  end

  defp to_binary!(data) when is_binary(data), do: data

  defp to_binary!(data) do
    IO.iodata_to_binary(data)
  rescue
    _ -> raise ArgumentError, "Nx.deserialize/2 expects iodata, got: #{limited(data)}"
  end

  defp decode(<<@prefix, @version, order, size::64, rest::binary>>) do
    endianness =
      case order do
        0 -> :little
        1 -> :big
        other -> malformed!("unknown byte order marker #{other}")
      end

    if byte_size(rest) < size do
      malformed!("the term part is truncated")
    end

    <<term::binary-size(size), buffers::binary>> = rest
    term |> safe_term!() |> from_term(endianness, buffers)
  end

  defp decode(<<@prefix, version, _::binary>>) do
    raise ArgumentError, "cannot deserialize Nx format v#{version}"
  end

  defp decode(<<131, _::binary>> = binary) do
    case safe_term!(binary) do
      {1, endianness, term} when endianness in [:little, :big] -> from_legacy(term, endianness)
      _ -> malformed!("unknown term layout")
    end
  end

  defp decode(_binary) do
    raise ArgumentError,
          "unable to deserialize: the data is not in Nx's serialization format"
  end

  defp safe_term!(<<131, 80, inflated::32, rest::binary>>)
       when inflated > byte_size(rest) * @max_inflation + 1024 do
    malformed!("the compressed term claims an impossible size")
  end

  defp safe_term!(binary) do
    case :erlang.binary_to_term(binary, [:safe, :used]) do
      {term, used} when used == byte_size(binary) -> term
      {_term, _used} -> malformed!("unexpected bytes after the term")
    end
  rescue
    ArgumentError ->
      malformed!(
        "the term is malformed or names atoms that do not exist in this VM " <>
          "(deserialization never creates atoms)"
      )
  end

  defp from_term({:t, shape, type, names, vectorized, offset, size}, endianness, buffers)
       when is_integer(offset) and offset >= 0 and is_integer(size) and size >= 0 do
    {shape, type, names, vectorized} = check_tensor!(shape, type, names, vectorized)
    expected = expected_bytes(shape, type)

    cond do
      size != expected ->
        malformed!(
          "a #{Nx.Type.to_string(type)}#{inspect(shape)} tensor needs #{expected} bytes, " <>
            "the data claims #{size}"
        )

      offset + size > byte_size(buffers) ->
        malformed!("the tensor data is truncated")

      true ->
        buffers |> binary_part(offset, size) |> build(shape, type, names, vectorized, endianness)
    end
  end

  defp from_term({module, pairs, metadata}, endianness, buffers)
       when is_atom(module) and is_list(pairs) do
    pairs = pairs |> proper_list!() |> Enum.map(&pair!/1)
    pairs = Enum.map(pairs, fn {key, value} -> {key, from_term(value, endianness, buffers)} end)
    rebuild(module, pairs, metadata)
  end

  defp from_term(_term, _endianness, _buffers), do: malformed!("unknown term layout")

  # binary_to_term accepts improper lists ([a | b]); Enum functions would raise on them.
  defp proper_list!(list) do
    _ = length(list)
    list
  rescue
    ArgumentError -> malformed!("container entries must be a proper list")
  end

  defp pair!({key, value}), do: {key, value}
  defp pair!(_other), do: malformed!("container entries must be pairs")

  defp from_legacy({:tensor, shape, type, names, binary}, endianness) when is_binary(binary) do
    {shape, type, names, []} = check_tensor!(shape, type, names, [])

    if byte_size(binary) != expected_bytes(shape, type) do
      malformed!("the tensor data does not match its shape and type")
    end

    build(binary, shape, type, names, [], endianness)
  end

  defp from_legacy({:container, container}, endianness) when is_tuple(container) do
    container |> Tuple.to_list() |> Enum.map(&from_legacy(&1, endianness)) |> List.to_tuple()
  end

  defp from_legacy({:container, container}, endianness)
       when is_map(container) and not is_struct(container) do
    Map.new(container, fn {key, value} -> {key, from_legacy(value, endianness)} end)
  end

  defp from_legacy({module, pairs, metadata}, endianness)
       when is_atom(module) and is_list(pairs) do
    pairs = pairs |> proper_list!() |> Enum.map(&pair!/1)
    pairs = Enum.map(pairs, fn {key, value} -> {key, from_legacy(value, endianness)} end)
    rebuild(module, pairs, metadata)
  end

  defp from_legacy(_term, _endianness), do: malformed!("unknown term layout")

  defp rebuild(Nx.Container.Tuple, pairs, :ok) do
    pairs |> Enum.map(&elem(&1, 1)) |> List.to_tuple()
  end

  defp rebuild(Nx.Container.Map, pairs, :ok), do: Map.new(pairs)

  defp rebuild(module, pairs, keep) when is_list(keep) do
    struct_module = struct_module!(module)
    fields = struct_module.__struct__() |> Map.keys() |> List.delete(:__struct__)

    for {field, _} <- pairs ++ Enum.map(proper_list!(keep), &pair!/1), field not in fields do
      malformed!("#{inspect(struct_module)} has no field #{inspect(field)}")
    end

    try do
      struct!(struct_module, pairs ++ keep)
    rescue
      error in [ArgumentError, KeyError] ->
        malformed!("cannot build #{inspect(struct_module)}: #{Exception.message(error)}")
    end
  end

  defp rebuild(module, _pairs, _metadata) do
    malformed!("unknown container #{inspect(module)}")
  end

  # `module` is the Nx.Container implementation of some struct: the struct's module must
  # already exist, be loaded, and be the one that implementation serves.
  defp struct_module!(module) do
    name = Atom.to_string(module)

    struct_module =
      with "Elixir.Nx.Container." <> rest <- name,
           {:ok, struct_module} <- existing_atom("Elixir." <> rest),
           true <- Code.ensure_loaded?(struct_module),
           true <- function_exported?(struct_module, :__struct__, 0),
           true <- Nx.Container.impl_for(struct_module.__struct__()) == module do
        struct_module
      else
        _ -> nil
      end

    struct_module || malformed!("unknown container #{inspect(module)}")
  end

  defp existing_atom(string) do
    {:ok, String.to_existing_atom(string)}
  rescue
    ArgumentError -> :error
  end

  defp check_tensor!(shape, type, names, vectorized) do
    unless is_tuple(shape) and Enum.all?(Tuple.to_list(shape), &(is_integer(&1) and &1 >= 0)) do
      malformed!("invalid shape #{limited(shape)}")
    end

    unless type in Nx.Type.__all__() do
      malformed!("invalid type #{limited(type)}")
    end

    unless is_list(names) and length(names) == tuple_size(shape) and Enum.all?(names, &is_atom/1) do
      malformed!("invalid names #{limited(names)} for shape #{inspect(shape)}")
    end

    dims = Tuple.to_list(shape)

    valid_vectorized? =
      is_list(vectorized) and length(vectorized) <= length(dims) and
        Enum.all?(Enum.zip(vectorized, dims), fn
          {{name, size}, dim} -> is_atom(name) and not is_nil(name) and size == dim
          _ -> false
        end) and Enum.map(vectorized, &elem(&1, 0)) == Enum.take(names, length(vectorized))

    unless valid_vectorized? do
      malformed!("invalid vectorized axes #{limited(vectorized)} for shape #{inspect(shape)}")
    end

    {shape, type, names, vectorized}
  end

  defp expected_bytes(shape, {_, bits}), do: div(Nx.size(shape) * bits + 7, 8)

  defp build(binary, shape, {_, bits} = type, names, vectorized, endianness) do
    data =
      cond do
        bits < 8 ->
          count = Nx.size(shape) * bits
          <<packed::bitstring-size(count), _::bitstring>> = binary
          packed

        endianness == System.endianness() ->
          binary

        true ->
          swap_bytes(binary, type)
      end

    tensor = Nx.from_binary(data, type) |> Nx.reshape(shape, names: names)

    case vectorized do
      [] ->
        tensor

      _ ->
        count = length(vectorized)

        %{
          tensor
          | shape: shape |> Tuple.to_list() |> Enum.drop(count) |> List.to_tuple(),
            names: Enum.drop(names, count),
            vectorized_axes: vectorized
        }
    end
  end

  # Complex numbers are two floats, each swapped on its own.
  defp swap_bytes(binary, {:c, bits}), do: swap_bytes(binary, {:f, div(bits, 2)})

  defp swap_bytes(binary, {_, bits}) do
    for <<element::integer-size(bits)-little <- binary>>, into: <<>> do
      <<element::integer-size(bits)-big>>
    end
  end

  defp malformed!(reason) do
    raise ArgumentError, "unable to deserialize: #{reason}"
  end

  defp limited(term), do: inspect(term, limit: 10, printable_limit: 64)
end
