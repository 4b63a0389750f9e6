defmodule Nx.NumPy do
  @moduledoc """
  NumPy's `.npy` and `.npz` formats, behind `Nx.load_numpy!/1` and
  `Nx.load_numpy_archive!/1`, plus writers of both (`dump/1`,
  `dump_archive/1`) to hand tensors to NumPy.

  ## .npy

  A `.npy` file is the magic string `"\\x93NUMPY"`, a major and a minor
  version byte, the length of a header (2 bytes little endian in version 1,
  4 bytes in versions 2 and 3), the header itself (a Python dict literal,
  ASCII in versions 1 and 2, UTF-8 in version 3) and the array's bytes:

      {'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }

  Readable dtypes: `b1` (bool, read as `:u8`), `i1` to `i8`, `u1` to `u8`,
  `f2`, `f4`, `f8`, `c8` and `c16`, in either byte order (`<`, `>`, `|`
  for one-byte types, `=` for this machine's order). In Fortran order the
  bytes are the transposed array's. The header must have exactly the keys
  `descr`, `fortran_order` and `shape`, and the data exactly the size they
  give; anything else (structured, string or object dtypes, truncation,
  trailing bytes) raises `ArgumentError`.

  ## .npz

  A `.npz` file is a zip archive of `.npy` members (`numpy.savez` stores
  them, `numpy.savez_compressed` deflates them). NumPy writes ZIP64 local
  headers, which OTP 25's `:zip` does not read, so this module reads the
  archive itself: the central directory (ZIP64 included), stored and
  deflated members (inflated through `:zlib`, never past the size the
  directory declares) and their CRC-32. Encrypted members and other
  compression methods raise `ArgumentError`.
  """

  alias Nx.Tensor, as: T

  import Bitwise

  @magic <<0x93, "NUMPY">>
  @max_header 1_048_576

  @descr %{
    {?b, 1} => {:u, 8},
    {?i, 1} => {:s, 8},
    {?i, 2} => {:s, 16},
    {?i, 4} => {:s, 32},
    {?i, 8} => {:s, 64},
    {?u, 1} => {:u, 8},
    {?u, 2} => {:u, 16},
    {?u, 4} => {:u, 32},
    {?u, 8} => {:u, 64},
    {?f, 2} => {:f, 16},
    {?f, 4} => {:f, 32},
    {?f, 8} => {:f, 64},
    {?c, 8} => {:c, 64},
    {?c, 16} => {:c, 128}
  }

  ## Reading .npy

  @doc """
  Reads a `.npy` binary into a tensor (see `Nx.load_numpy!/1`).

  ## Examples

      iex> t = Nx.NumPy.load!(Nx.NumPy.dump(Nx.tensor([[1.0, 2.0]], type: :f64)))
      iex> {Nx.type(t), Nx.to_list(t)}
      {{:f, 64}, [[1.0, 2.0]]}

      iex> Nx.NumPy.load!("PK")
      ** (ArgumentError) unable to parse NumPy file: missing the \\x93NUMPY magic string
  """
  @spec load!(binary) :: Nx.Tensor.t()
  def load!(data) when is_binary(data) do
    {header, body} = split_header!(data)
    {type, endianness, fortran?, shape} = parse_header!(header)
    {_, bits} = type
    expected = Nx.size(shape) * div(bits, 8)

    if byte_size(body) != expected do
      error!(
        "the data holds #{byte_size(body)} bytes, a #{Nx.Type.to_string(type)}" <>
          "#{inspect(shape)} array needs #{expected}"
      )
    end

    body
    |> to_native(type, endianness)
    |> Nx.from_binary(type)
    |> in_order(shape, fortran?)
  end

  def load!(other), do: error!("expected a binary, got: #{inspect(other, limit: 5)}")

  defp split_header!(<<@magic, major, _minor, rest::binary>>) do
    {length, rest} =
      case {major, rest} do
        {1, <<len::16-little, rest::binary>>} -> {len, rest}
        {v, <<len::32-little, rest::binary>>} when v in [2, 3] -> {len, rest}
        {v, _} when v in [1, 2, 3] -> error!("truncated header length")
        {v, _} -> error!("unsupported format version #{v}")
      end

    cond do
      length > @max_header -> error!("the header is longer than #{@max_header} bytes")
      byte_size(rest) < length -> error!("truncated header")
      true -> :ok
    end

    <<header::binary-size(length), body::binary>> = rest
    {header, body}
  end

  defp split_header!(_data), do: error!("missing the \\x93NUMPY magic string")

  defp parse_header!(header) do
    dict =
      case literal(skip(header), 0) do
        {{:dict, pairs}, rest} ->
          if skip(rest) != "", do: error!("unexpected text after the header dict")
          pairs

        _ ->
          error!("the header is not a Python dict")
      end

    keys = dict |> Enum.map(&elem(&1, 0)) |> Enum.sort()

    unless keys == [{:str, "descr"}, {:str, "fortran_order"}, {:str, "shape"}] do
      error!("the header must have exactly the keys descr, fortran_order and shape")
    end

    dict = Map.new(dict)
    {type, endianness} = descr!(dict[{:str, "descr"}])

    fortran? =
      case dict[{:str, "fortran_order"}] do
        bool when is_boolean(bool) -> bool
        _ -> error!("fortran_order must be True or False")
      end

    shape =
      case dict[{:str, "shape"}] do
        {:tuple, dims} ->
          if Enum.all?(dims, &(is_integer(&1) and &1 >= 0)),
            do: List.to_tuple(dims),
            else: error!("shape must be a tuple of non-negative integers")

        _ ->
          error!("shape must be a tuple")
      end

    {type, endianness, fortran?, shape}
  end

  defp descr!({:str, <<order, kind, size::binary>>}) when order in ~c"<>|=" do
    size =
      case Integer.parse(size) do
        {size, ""} -> size
        _ -> error!("unsupported dtype #{inspect(<<order, kind, size::binary>>)}")
      end

    type =
      Map.get(@descr, {kind, size}) ||
        error!("unsupported dtype #{inspect(<<order, kind>> <> Integer.to_string(size))}")

    endianness =
      case order do
        ?< -> :little
        ?> -> :big
        ?= -> System.endianness()
        ?| when size == 1 -> System.endianness()
        ?| -> error!("dtype |#{<<kind>>}#{size} has no byte order")
      end

    {type, endianness}
  end

  defp descr!(_other), do: error!("unsupported dtype (only simple numeric dtypes are)")

  # A small reader of Python literals: strings, ints, True/False/None, tuples, lists, dicts.
  @max_depth 16

  defp literal(_text, depth) when depth > @max_depth, do: error!("the header nests too deeply")
  defp literal(<<q, rest::binary>>, _depth) when q in [?', ?"], do: string(rest, q, [])
  defp literal("True" <> rest, _depth), do: {true, rest}
  defp literal("False" <> rest, _depth), do: {false, rest}
  defp literal("None" <> rest, _depth), do: {nil, rest}
  defp literal("(" <> rest, depth), do: sequence(rest, ?), :tuple, depth)
  defp literal("[" <> rest, depth), do: sequence(rest, ?], :list, depth)
  defp literal("{" <> rest, depth), do: dict(skip(rest), [], depth)

  defp literal(<<c, _::binary>> = text, _depth) when c in ?0..?9 or c == ?- do
    case Integer.parse(text) do
      {int, rest} when abs(int) < 1 <<< 64 -> {int, rest}
      _ -> error!("invalid number in the header")
    end
  end

  defp literal(_text, _depth), do: error!("invalid header syntax")

  defp string(<<q, rest::binary>>, q, acc),
    do: {{:str, IO.iodata_to_binary(Enum.reverse(acc))}, rest}

  defp string(<<?\\, _::binary>>, _q, _acc), do: error!("escapes are not supported in the header")
  defp string(<<c, rest::binary>>, q, acc), do: string(rest, q, [c | acc])
  defp string(<<>>, _q, _acc), do: error!("unterminated string in the header")

  defp sequence(text, close, tag, depth) do
    case skip(text) do
      <<^close, rest::binary>> ->
        {{tag, []}, rest}

      text ->
        {value, rest} = literal(text, depth + 1)
        sequence_rest(skip(rest), close, tag, depth, [value])
    end
  end

  defp sequence_rest(text, close, tag, depth, acc) do
    case text do
      <<^close, rest::binary>> ->
        # A one-element tuple needs its trailing comma: (3) is the number 3.
        if tag == :tuple and length(acc) == 1,
          do: {hd(acc), rest},
          else: {{tag, Enum.reverse(acc)}, rest}

      "," <> rest ->
        case skip(rest) do
          <<^close, rest::binary>> ->
            {{tag, Enum.reverse(acc)}, rest}

          text ->
            {value, rest} = literal(text, depth + 1)
            sequence_rest(skip(rest), close, tag, depth, [value | acc])
        end

      _ ->
        error!("invalid header syntax")
    end
  end

  defp dict("}" <> rest, acc, _depth), do: {{:dict, Enum.reverse(acc)}, rest}

  defp dict(text, acc, depth) do
    {key, rest} = literal(text, depth + 1)

    rest =
      case skip(rest) do
        ":" <> rest -> skip(rest)
        _ -> error!("invalid header syntax")
      end

    {value, rest} = literal(rest, depth + 1)

    if List.keymember?(acc, key, 0), do: error!("duplicate key in the header")

    case skip(rest) do
      "," <> rest -> dict(skip(rest), [{key, value} | acc], depth)
      "}" <> rest -> {{:dict, Enum.reverse([{key, value} | acc])}, rest}
      _ -> error!("invalid header syntax")
    end
  end

  defp skip(<<c, rest::binary>>) when c in [?\s, ?\t, ?\n, ?\r], do: skip(rest)
  defp skip(text), do: text

  defp to_native(binary, {_, bits} = type, endianness) do
    cond do
      bits == 8 or endianness == System.endianness() -> binary
      true -> swap(binary, type)
    end
  end

  defp swap(binary, {:c, bits}), do: swap(binary, {:f, div(bits, 2)})

  defp swap(binary, {_, bits}) do
    for <<element::integer-size(bits)-little <- binary>>,
      into: <<>>,
      do: <<element::integer-size(bits)-big>>
  end

  defp in_order(tensor, shape, false), do: Nx.reshape(tensor, shape)

  defp in_order(tensor, shape, true) when tuple_size(shape) < 2, do: Nx.reshape(tensor, shape)

  defp in_order(tensor, shape, true) do
    reversed = shape |> Tuple.to_list() |> Enum.reverse()
    rank = length(reversed)

    tensor
    |> Nx.reshape(List.to_tuple(reversed))
    |> Nx.transpose(axes: Enum.to_list((rank - 1)..0//-1))
  end

  ## Writing .npy

  @doc """
  Writes a tensor as a `.npy` binary (format version 1, or 2 for huge
  headers), in C order and this machine's byte order.

  Types NumPy has no dtype for (`s2`, `s4`, `u2`, `u4`, `bf16`, `f8`,
  `f8_e4m3fn`) raise `ArgumentError`; convert them with `Nx.as_type/2` first.

  ## Examples

      iex> npy = Nx.NumPy.dump(Nx.tensor([1, 2], type: :u8))
      iex> <<0x93, "NUMPY", 1, 0, len::16-little, header::binary-size(len), data::binary>> = npy
      iex> {String.trim_trailing(header), data, rem(10 + len, 64)}
      {"{'descr': '|u1', 'fortran_order': False, 'shape': (2,), }", <<1, 2>>, 0}
  """
  @spec dump(Nx.Tensor.t() | number) :: binary
  def dump(tensor) do
    %T{type: type, shape: shape, vectorized_axes: []} = tensor = Nx.to_tensor(tensor)
    descr = descr_of(type)

    dims =
      case Tuple.to_list(shape) do
        [] -> "()"
        [dim] -> "(#{dim},)"
        dims -> "(" <> Enum.map_join(dims, ", ", &Integer.to_string/1) <> ")"
      end

    dict = "{'descr': '#{descr}', 'fortran_order': False, 'shape': #{dims}, }"

    {version, len_bytes} = if byte_size(dict) + 1 + 10 <= 65_535, do: {1, 2}, else: {2, 4}

    fixed = 6 + 2 + len_bytes
    pad = rem(64 - rem(fixed + byte_size(dict) + 1, 64), 64)
    header = dict <> String.duplicate(" ", pad) <> "\n"
    size = byte_size(header)

    IO.iodata_to_binary([
      @magic,
      <<version, 0>>,
      <<size::size(len_bytes * 8)-little>>,
      header,
      Nx.to_binary(tensor)
    ])
  end

  defp descr_of(type) do
    order = if System.endianness() == :little, do: "<", else: ">"

    case type do
      {:u, 8} -> "|u1"
      {:s, 8} -> "|i1"
      {:u, bits} when bits >= 16 -> order <> "u#{div(bits, 8)}"
      {:s, bits} when bits >= 16 -> order <> "i#{div(bits, 8)}"
      {:f, bits} when bits >= 16 -> order <> "f#{div(bits, 8)}"
      {:c, bits} -> order <> "c#{div(bits, 8)}"
      other -> raise ArgumentError, "NumPy has no dtype for #{Nx.Type.to_string(other)} tensors"
    end
  end

  ## .npz

  @doc """
  Reads a `.npz` archive into `{name, tensor}` pairs (see `Nx.load_numpy_archive!/1`).

  ## Examples

      iex> [{"x", x}] = Nx.NumPy.load_archive!(Nx.NumPy.dump_archive(x: Nx.tensor([1, 2])))
      iex> Nx.to_list(x)
      [1, 2]

      iex> Nx.NumPy.load_archive!("not a zip")
      ** (ArgumentError) unable to parse NumPy archive: no end of central directory record
  """
  @spec load_archive!(binary) :: [{String.t(), Nx.Tensor.t()}]
  def load_archive!(archive) when is_binary(archive) do
    for {name, data} <- unzip!(archive) do
      name =
        if String.ends_with?(name, ".npy"),
          do: binary_part(name, 0, byte_size(name) - 4),
          else: name

      tensor =
        try do
          load!(data)
        rescue
          error in ArgumentError ->
            archive_error!("member #{inspect(name)}: #{Exception.message(error)}")
        end

      {name, tensor}
    end
  end

  def load_archive!(other),
    do: archive_error!("expected a binary, got: #{inspect(other, limit: 5)}")

  @doc """
  Writes `{name, tensor}` pairs (a keyword list, a list of pairs with string
  names, or a map) as a `.npz` archive with stored (uncompressed) members,
  each named `name <> ".npy"`, in the given order.

  ## Examples

      iex> npz = Nx.NumPy.dump_archive([{"w", Nx.tensor([1.0])}])
      iex> binary_part(npz, 0, 4)
      <<"PK", 3, 4>>
  """
  @spec dump_archive(Enumerable.t()) :: binary
  def dump_archive(tensors) do
    {locals, centrals, _offset, count} =
      Enum.reduce(tensors, {[], [], 0, 0}, fn {name, tensor}, {locals, centrals, offset, count} ->
        name = to_string(name) <> ".npy"
        data = dump(tensor)
        crc = :erlang.crc32(data)
        size = byte_size(data)

        local =
          <<0x04034B50::32-little, 20::16-little, 0::16, 0::16, 0::16, 0x21::16-little,
            crc::32-little, size::32-little, size::32-little, byte_size(name)::16-little,
            0::16>> <> name <> data

        central =
          <<0x02014B50::32-little, 20::16-little, 20::16-little, 0::16, 0::16, 0::16,
            0x21::16-little, crc::32-little, size::32-little, size::32-little,
            byte_size(name)::16-little, 0::16, 0::16, 0::16, 0::16, 0::32,
            offset::32-little>> <> name

        {[local | locals], [central | centrals], offset + byte_size(local), count + 1}
      end)

    locals = locals |> Enum.reverse() |> IO.iodata_to_binary()
    centrals = centrals |> Enum.reverse() |> IO.iodata_to_binary()

    locals <>
      centrals <>
      <<0x06054B50::32-little, 0::16, 0::16, count::16-little, count::16-little,
        byte_size(centrals)::32-little, byte_size(locals)::32-little, 0::16>>
  end

  ## Zip reading

  @eocd 0x06054B50
  @eocd64 0x06064B50
  @locator64 0x07064B50
  @central 0x02014B50
  @local 0x04034B50

  defp unzip!(archive) do
    {count, cd_size, cd_offset} = directory!(archive)

    if cd_offset + cd_size > byte_size(archive) do
      archive_error!("the central directory lies outside the archive")
    end

    if count > div(cd_size, 46) do
      archive_error!("the central directory is too small for #{count} entries")
    end

    directory = binary_part(archive, cd_offset, cd_size)
    {entries, _rest} = Enum.map_reduce(1..count//1, directory, fn _, rest -> central!(rest) end)
    Enum.map(entries, &member!(archive, &1))
  end

  defp directory!(archive) do
    position = find_eocd(archive, byte_size(archive) - 22)

    <<@eocd::32-little, _disk::16, _cd_disk::16, _on_disk::16, count::16-little,
      cd_size::32-little, cd_offset::32-little,
      _::binary>> = binary_part(archive, position, byte_size(archive) - position)

    if count == 0xFFFF or cd_size == 0xFFFFFFFF or cd_offset == 0xFFFFFFFF do
      directory64!(archive, position)
    else
      {count, cd_size, cd_offset}
    end
  end

  defp find_eocd(archive, position) when position >= 0 do
    limit = byte_size(archive) - 22 - 65_535

    cond do
      position < limit -> archive_error!("no end of central directory record")
      binary_part(archive, position, 4) == <<@eocd::32-little>> -> position
      true -> find_eocd(archive, position - 1)
    end
  end

  defp find_eocd(_archive, _position), do: archive_error!("no end of central directory record")

  defp directory64!(archive, eocd_position) do
    with true <- eocd_position >= 20,
         <<@locator64::32-little, _disk::32, offset::64-little, _disks::32>> <-
           binary_part(archive, eocd_position - 20, 20),
         true <- offset + 56 <= byte_size(archive),
         <<@eocd64::32-little, _size::64, _made::16, _needed::16, _disk::32, _cd_disk::32,
           _on_disk::64, count::64-little, cd_size::64-little,
           cd_offset::64-little>> <- binary_part(archive, offset, 56) do
      {count, cd_size, cd_offset}
    else
      _ -> archive_error!("invalid ZIP64 end of central directory")
    end
  end

  defp central!(
         <<@central::32-little, _made::16, _needed::16, flags::16-little, method::16-little,
           _time::16, _date::16, crc::32-little, csize::32-little, usize::32-little,
           name_len::16-little, extra_len::16-little, comment_len::16-little, _disk::16,
           _internal::16, _external::32, offset::32-little, name::binary-size(name_len),
           extra::binary-size(extra_len), _comment::binary-size(comment_len), rest::binary>>
       ) do
    {usize, csize, offset} = zip64_sizes(extra, usize, csize, offset)

    {%{
       name: name,
       flags: flags,
       method: method,
       crc: crc,
       csize: csize,
       usize: usize,
       offset: offset
     }, rest}
  end

  defp central!(_rest), do: archive_error!("invalid central directory entry")

  # The ZIP64 extra field holds, in this order, the sizes and offset that do not fit 32 bits.
  defp zip64_sizes(extra, usize, csize, offset) do
    case zip64_field(extra) do
      nil ->
        {usize, csize, offset}

      field ->
        {usize, field} = from_field(usize, field)
        {csize, field} = from_field(csize, field)
        {offset, _field} = from_field(offset, field)
        {usize, csize, offset}
    end
  end

  defp zip64_field(<<0x0001::16-little, size::16-little, field::binary-size(size), _::binary>>),
    do: field

  defp zip64_field(<<_id::16, size::16-little, _::binary-size(size), rest::binary>>),
    do: zip64_field(rest)

  defp zip64_field(_), do: nil

  defp from_field(0xFFFFFFFF, <<value::64-little, rest::binary>>), do: {value, rest}
  defp from_field(0xFFFFFFFF, _), do: archive_error!("invalid ZIP64 extra field")
  defp from_field(value, field), do: {value, field}

  defp member!(archive, %{name: name} = entry) do
    %{flags: flags, method: method, crc: crc, csize: csize, usize: usize, offset: offset} = entry

    if (flags &&& 1) == 1, do: archive_error!("member #{inspect(name)} is encrypted")

    start =
      case archive do
        <<_::binary-size(offset), @local::32-little, _::binary-size(22), name_len::16-little,
          extra_len::16-little, _::binary>> ->
          offset + 30 + name_len + extra_len

        _ ->
          archive_error!("invalid local header for member #{inspect(name)}")
      end

    if start + csize > byte_size(archive) do
      archive_error!("member #{inspect(name)} is truncated")
    end

    compressed = binary_part(archive, start, csize)

    data =
      case method do
        0 when csize == usize -> compressed
        0 -> archive_error!("stored member #{inspect(name)} has inconsistent sizes")
        8 -> inflate!(compressed, usize, name)
        other -> archive_error!("member #{inspect(name)} uses compression method #{other}")
      end

    if :erlang.crc32(data) != crc, do: archive_error!("CRC mismatch in member #{inspect(name)}")

    unless String.valid?(name), do: archive_error!("member names must be UTF-8")

    {name, data}
  end

  # Raw deflate, in bounded steps: the output may not exceed the declared size.
  defp inflate!(compressed, usize, name) do
    z = :zlib.open()

    try do
      :ok = :zlib.inflateInit(z, -15)
      inflate_loop(z, :zlib.safeInflate(z, compressed), usize, [], 0, name)
    rescue
      error in ErlangError ->
        archive_error!(
          "member #{inspect(name)} is not valid deflate data (#{inspect(error.original)})"
        )
    after
      :zlib.close(z)
    end
  end

  defp inflate_loop(z, {status, output}, usize, acc, size, name) do
    size = size + IO.iodata_length(output)

    if size > usize do
      archive_error!("member #{inspect(name)} inflates beyond its declared size")
    end

    case status do
      :continue when output == [] or output == "" ->
        # No progress: the stream ended before its end marker.
        archive_error!("member #{inspect(name)} is truncated")

      :continue ->
        inflate_loop(z, :zlib.safeInflate(z, []), usize, [acc | output], size, name)

      :finished when size == usize ->
        IO.iodata_to_binary([acc | output])

      :finished ->
        archive_error!("member #{inspect(name)} inflates short of its declared size")

      _other ->
        archive_error!("member #{inspect(name)} is not valid deflate data")
    end
  end

  defp error!(reason), do: raise(ArgumentError, "unable to parse NumPy file: #{reason}")

  defp archive_error!(reason),
    do: raise(ArgumentError, "unable to parse NumPy archive: #{reason}")
end
