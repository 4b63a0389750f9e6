defmodule Nx.Safetensors do
  @moduledoc """
  Reading and writing the [safetensors](https://huggingface.co/docs/safetensors)
  format, with the API of the Hex `safetensors` package (`dump/1`, `load!/1`,
  `read!/1`, `write!/2`) under this project's own name, plus the header's
  `__metadata__` (`dump/2` and `write!/3` with `:metadata`, `metadata!/1`
  and `read_metadata!/1`).

  A safetensors file is an 8-byte little-endian length `n`, a JSON header of
  `n` bytes (padded with spaces) and the tensors' data, little endian and in
  C order, one tensor after the other:

      {"__metadata__": {"format": "pt"},
       "weight": {"dtype": "F32", "shape": [2, 2], "data_offsets": [0, 16]}}

  | dtype | Nx type |
  | --- | --- |
  | `BOOL` | `:u8` (read only) |
  | `U8`, `U16`, `U32`, `U64` | `:u8` ... `:u64` |
  | `I8`, `I16`, `I32`, `I64` | `:s8` ... `:s64` |
  | `F8_E5M2`, `F8_E4M3` | `:f8`, `:f8_e4m3fn` |
  | `F16`, `BF16`, `F32`, `F64` | `:f16`, `:bf16`, `:f32`, `:f64` |
  | `C64` | `:c64` |

  `c128` and the sub-byte integer types have no safetensors dtype and raise
  on writing. Reading checks what the reference implementation checks: a
  header of at most 100 MB that is a JSON object, every tensor with exactly
  `dtype`, `shape` and `data_offsets`, a known dtype, offsets that tile the
  data part exactly (in order, without gaps or overlap, each tensor's span
  matching its shape), `__metadata__` mapping strings to strings. Anything
  else raises `ArgumentError`; no atom is created.

  The JSON reader and writer are this module's own (`Nx.Safetensors.JSON`).
  """

  alias Nx.Safetensors.JSON
  alias Nx.Tensor, as: T

  @max_header 100_000_000

  @dtypes %{
    "BOOL" => {:u, 8},
    "U8" => {:u, 8},
    "I8" => {:s, 8},
    "U16" => {:u, 16},
    "I16" => {:s, 16},
    "U32" => {:u, 32},
    "I32" => {:s, 32},
    "U64" => {:u, 64},
    "I64" => {:s, 64},
    "F8_E5M2" => {:f, 8},
    "F8_E4M3" => {:f8_e4m3fn, 8},
    "F16" => {:f, 16},
    "BF16" => {:bf, 16},
    "F32" => {:f, 32},
    "F64" => {:f, 64},
    "C64" => {:c, 64}
  }

  @names %{
    {:u, 8} => "U8",
    {:s, 8} => "I8",
    {:u, 16} => "U16",
    {:s, 16} => "I16",
    {:u, 32} => "U32",
    {:s, 32} => "I32",
    {:u, 64} => "U64",
    {:s, 64} => "I64",
    {:f, 8} => "F8_E5M2",
    {:f8_e4m3fn, 8} => "F8_E4M3",
    {:f, 16} => "F16",
    {:bf, 16} => "BF16",
    {:f, 32} => "F32",
    {:f, 64} => "F64",
    {:c, 64} => "C64"
  }

  @type tensors :: %{optional(String.t()) => Nx.Tensor.t()} | [{String.t() | atom, Nx.t()}]

  ## Writing

  @doc """
  Serializes a map (or list) of tensors, by name, to iodata.

  Tensors are stored in name order. Numbers become scalar tensors.

  ## Options

    * `:metadata` - a map of strings to strings, stored as `__metadata__`

  ## Examples

      iex> data = Nx.Safetensors.dump(%{"x" => Nx.tensor([1, 2], type: :s16)})
      iex> IO.iodata_to_binary(data)
      <<56::64-little, ~s({"x":{"dtype":"I16","shape":[2],"data_offsets":[0,4]}}  ), 1, 0, 2, 0>>
  """
  @spec dump(tensors, keyword) :: iodata
  def dump(tensors, opts \\ []) do
    opts = Keyword.validate!(opts, metadata: nil)
    metadata = opts[:metadata]

    unless is_nil(metadata) or string_map?(metadata) do
      raise ArgumentError,
            ":metadata must be a map of strings to strings, got: #{inspect(metadata)}"
    end

    entries =
      tensors
      |> Enum.map(fn {name, tensor} -> {name!(name), Nx.to_tensor(tensor)} end)
      |> Enum.sort_by(&elem(&1, 0))

    names = Enum.map(entries, &elem(&1, 0))

    if length(Enum.uniq(names)) != length(names) do
      raise ArgumentError, "tensor names must be unique, got: #{inspect(names)}"
    end

    {infos, {binaries, _}} =
      Enum.map_reduce(entries, {[], 0}, fn {name, tensor}, {binaries, offset} ->
        %T{type: type, shape: shape, vectorized_axes: vectorized} = tensor

        if vectorized != [] do
          raise ArgumentError,
                "cannot write vectorized tensor #{inspect(name)}, devectorize it first"
        end

        dtype =
          Map.get(@names, type) ||
            raise ArgumentError,
                  "safetensors has no dtype for #{Nx.Type.to_string(type)} (tensor #{inspect(name)})"

        binary = tensor |> Nx.to_binary() |> to_little(type)
        stop = offset + byte_size(binary)

        info =
          {name,
           JSON.object([
             {"dtype", dtype},
             {"shape", Tuple.to_list(shape)},
             {"data_offsets", [offset, stop]}
           ])}

        {info, {[binary | binaries], stop}}
      end)

    header =
      if(metadata, do: [{"__metadata__", JSON.object(Enum.sort(metadata))}], else: [])
      |> Kernel.++(infos)
      |> JSON.object()
      |> JSON.encode()

    pad = rem(8 - rem(byte_size(header), 8), 8)
    header = header <> String.duplicate(" ", pad)
    [<<byte_size(header)::64-little>>, header | Enum.reverse(binaries)]
  end

  @doc """
  Writes a map (or list) of tensors to a file. See `dump/2` for the options.

  ## Examples

      iex> path = Path.join(System.tmp_dir!(), "nx_safetensors_doctest.safetensors")
      iex> :ok = Nx.Safetensors.write!(path, %{"w" => Nx.tensor([1.0, 2.0])})
      iex> Nx.Safetensors.read!(path)["w"] |> Nx.to_list()
      [1.0, 2.0]
  """
  @spec write!(Path.t(), tensors, keyword) :: :ok
  def write!(path, tensors, opts \\ []) do
    File.write!(path, dump(tensors, opts))
  end

  ## Reading

  @doc """
  Loads the tensors of a safetensors binary into a map of name to tensor.

  ## Examples

      iex> tensors = Nx.Safetensors.load!(Nx.Safetensors.dump(%{"a" => Nx.tensor([1, 2])}))
      iex> tensors["a"]
      #Nx.Tensor<
        s32[2]
        [1, 2]
      >

      iex> Nx.Safetensors.load!(<<1, 2>>)
      ** (ArgumentError) unable to parse safetensors data: shorter than its 8-byte header length
  """
  @spec load!(iodata) :: %{String.t() => Nx.Tensor.t()}
  def load!(data) do
    data = to_binary!(data)
    {tensors, _metadata, buffer} = parse!(data)

    Map.new(tensors, fn {name, type, shape, start, stop} ->
      tensor =
        buffer
        |> binary_part(start, stop - start)
        |> from_little(type)
        |> Nx.from_binary(type)
        |> Nx.reshape(shape)

      {name, tensor}
    end)
  end

  @doc """
  Reads the tensors of a safetensors file into a map of name to tensor.

  ## Examples

      iex> Nx.Safetensors.read!("/nonexistent.safetensors")
      ** (File.Error) could not read file "/nonexistent.safetensors": no such file or directory
  """
  @spec read!(Path.t(), keyword) :: %{String.t() => Nx.Tensor.t()}
  def read!(path, opts \\ []) do
    Keyword.validate!(opts, [])
    path |> File.read!() |> load!()
  end

  @doc """
  Returns the `__metadata__` map of a safetensors binary (empty when absent).

  ## Examples

      iex> data = Nx.Safetensors.dump(%{"a" => Nx.tensor(1)}, metadata: %{"format" => "pt"})
      iex> Nx.Safetensors.metadata!(data)
      %{"format" => "pt"}
  """
  @spec metadata!(iodata) :: %{String.t() => String.t()}
  def metadata!(data) do
    {_tensors, metadata, _buffer} = data |> to_binary!() |> parse!()
    metadata
  end

  @doc """
  Returns the `__metadata__` map of a safetensors file (empty when absent).

  ## Examples

      iex> path = Path.join(System.tmp_dir!(), "nx_safetensors_meta.safetensors")
      iex> Nx.Safetensors.write!(path, %{"a" => Nx.tensor(1)}, metadata: %{"k" => "v"})
      iex> Nx.Safetensors.read_metadata!(path)
      %{"k" => "v"}
  """
  @spec read_metadata!(Path.t()) :: %{String.t() => String.t()}
  def read_metadata!(path), do: path |> File.read!() |> metadata!()

  defp to_binary!(data) when is_binary(data), do: data

  defp to_binary!(data) do
    IO.iodata_to_binary(data)
  rescue
    _ -> error!("expected iodata, got: #{inspect(data, limit: 5)}")
  end

  # {[{name, type, shape, start, stop}], metadata, buffer}, everything checked.
  defp parse!(data) do
    {header, buffer} =
      case data do
        <<n::64-little, rest::binary>> when n <= @max_header and n <= byte_size(rest) ->
          <<header::binary-size(n), buffer::binary>> = rest
          {header, buffer}

        <<n::64-little, _::binary>> when n > @max_header ->
          error!("the header length #{n} exceeds #{@max_header} bytes")

        <<_::64, _::binary>> ->
          error!("the header is truncated")

        _ ->
          error!("shorter than its 8-byte header length")
      end

    unless String.starts_with?(header, "{"), do: error!("the header must start with {")

    pairs =
      case JSON.decode(header) do
        {:ok, {:object, pairs}} -> pairs
        {:ok, _} -> error!("the header is not a JSON object")
        {:error, reason} -> error!("invalid JSON header: #{reason}")
      end

    {metadata, entries} =
      Enum.reduce(pairs, {%{}, []}, fn
        {"__metadata__", {:object, meta}}, {_, entries} ->
          meta =
            Map.new(meta, fn
              {key, value} when is_binary(value) -> {key, value}
              {key, _} -> error!("__metadata__ value of #{inspect(key)} is not a string")
            end)

          {meta, entries}

        {"__metadata__", _}, _acc ->
          error!("__metadata__ must be an object")

        {name, info}, {metadata, entries} ->
          {metadata, [entry!(name, info) | entries]}
      end)

    entries = Enum.sort_by(entries, fn {name, _, _, start, stop} -> {start, stop, name} end)

    final =
      Enum.reduce(entries, 0, fn {name, {_, bits}, shape, start, stop}, expected_start ->
        cond do
          start != expected_start ->
            error!("the data of #{inspect(name)} does not start where the previous one ends")

          stop - start != Nx.size(shape) * div(bits, 8) ->
            error!("the data offsets of #{inspect(name)} do not match its shape and dtype")

          true ->
            stop
        end
      end)

    if final != byte_size(buffer) do
      error!("the data part holds #{byte_size(buffer)} bytes, the header describes #{final}")
    end

    {entries, metadata, buffer}
  end

  defp entry!(name, {:object, fields}) do
    case Enum.sort(fields) do
      [{"data_offsets", [start, stop]}, {"dtype", dtype}, {"shape", shape}]
      when is_integer(start) and is_integer(stop) and start >= 0 and stop >= start and
             is_binary(dtype) and is_list(shape) ->
        type =
          Map.get(@dtypes, dtype) || error!("unknown dtype #{inspect(dtype)} of #{inspect(name)}")

        unless Enum.all?(shape, &(is_integer(&1) and &1 >= 0)) do
          error!("the shape of #{inspect(name)} must be a list of non-negative integers")
        end

        {name, type, List.to_tuple(shape), start, stop}

      _ ->
        error!(
          "tensor #{inspect(name)} must have exactly dtype, shape and data_offsets " <>
            "[begin, end] fields"
        )
    end
  end

  defp entry!(name, _info), do: error!("tensor #{inspect(name)} must be described by an object")

  defp to_little(binary, type), do: swap_unless(binary, type, :little)
  defp from_little(binary, type), do: swap_unless(binary, type, :little)

  defp swap_unless(binary, {_, bits} = type, endianness) do
    if bits == 8 or System.endianness() == endianness, do: binary, else: swap(binary, type)
  end

  defp swap(binary, {:c, bits}), do: swap(binary, {:f, div(bits, 2)})

  defp swap(binary, {_, bits}) do
    for <<element::integer-size(bits)-little <- binary>>,
      into: <<>>,
      do: <<element::integer-size(bits)-big>>
  end

  defp name!(name) when is_binary(name), do: name
  defp name!(name) when is_atom(name) and not is_nil(name), do: Atom.to_string(name)

  defp name!(name),
    do: raise(ArgumentError, "tensor names must be strings or atoms, got: #{inspect(name)}")

  defp string_map?(map) when is_map(map),
    do: Enum.all?(map, fn {k, v} -> is_binary(k) and is_binary(v) end)

  defp string_map?(_), do: false

  defp error!(reason), do: raise(ArgumentError, "unable to parse safetensors data: #{reason}")
end

defmodule Nx.Safetensors.JSON do
  @moduledoc """
  The small JSON reader and writer of `Nx.Safetensors` (the project uses no
  Hex package).

  Decoded objects are `{:object, [{key, value}]}` in document order (so
  duplicate keys can be refused and order kept), arrays are lists, strings
  are binaries, numbers are integers or floats, and `true`, `false` and
  `null` are `true`, `false` and `nil`. Encoding takes the same terms, or
  maps (written in key order).

  ## Examples

      iex> Nx.Safetensors.JSON.decode(~s({"a": [1, 2.5, "\\\\u00e9"], "b": null}))
      {:ok, {:object, [{"a", [1, 2.5, "é"]}, {"b", nil}]}}

      iex> Nx.Safetensors.JSON.encode(Nx.Safetensors.JSON.object([{"k", ["v", 1, true]}]))
      ~s({"k":["v",1,true]})
  """

  import Bitwise

  @max_depth 64

  @type value ::
          {:object, [{String.t(), value}]} | [value] | String.t() | number | boolean | nil

  @doc """
  Builds an object from pairs (keeping their order).

  ## Examples

      iex> Nx.Safetensors.JSON.object(b: 1, a: 2) |> Nx.Safetensors.JSON.encode()
      ~s({"b":1,"a":2})
  """
  @spec object(Enumerable.t()) :: value
  def object(pairs), do: {:object, Enum.map(pairs, fn {k, v} -> {to_string(k), v} end)}

  @doc """
  Encodes a value as compact JSON.

  ## Examples

      iex> Nx.Safetensors.JSON.encode(%{"quote" => "a\\"b\\n"})
      ~s({"quote":"a\\\\"b\\\\n"})
  """
  @spec encode(value | map) :: String.t()
  def encode(value), do: value |> do_encode() |> IO.iodata_to_binary()

  defp do_encode({:object, pairs}) do
    [
      "{",
      pairs |> Enum.map(fn {k, v} -> [string(k), ":", do_encode(v)] end) |> Enum.intersperse(","),
      "}"
    ]
  end

  defp do_encode(map) when is_map(map), do: do_encode({:object, Enum.sort(map)})

  defp do_encode(list) when is_list(list),
    do: ["[", list |> Enum.map(&do_encode/1) |> Enum.intersperse(","), "]"]

  defp do_encode(true), do: "true"
  defp do_encode(false), do: "false"
  defp do_encode(nil), do: "null"
  defp do_encode(int) when is_integer(int), do: Integer.to_string(int)
  defp do_encode(float) when is_float(float), do: Float.to_string(float)
  defp do_encode(string) when is_binary(string), do: string(string)
  defp do_encode(atom) when is_atom(atom), do: string(Atom.to_string(atom))

  defp string(string) do
    [?", escape(string, []), ?"]
  end

  defp escape(<<?", rest::binary>>, acc), do: escape(rest, [acc | "\\\""])
  defp escape(<<?\\, rest::binary>>, acc), do: escape(rest, [acc | "\\\\"])
  defp escape(<<?\n, rest::binary>>, acc), do: escape(rest, [acc | "\\n"])
  defp escape(<<?\r, rest::binary>>, acc), do: escape(rest, [acc | "\\r"])
  defp escape(<<?\t, rest::binary>>, acc), do: escape(rest, [acc | "\\t"])

  defp escape(<<c, rest::binary>>, acc) when c < 0x20 do
    hex = c |> Integer.to_string(16) |> String.pad_leading(4, "0")
    escape(rest, [acc, "\\u", hex])
  end

  defp escape(<<c, rest::binary>>, acc), do: escape(rest, [acc, c])
  defp escape(<<>>, acc), do: acc

  @doc """
  Decodes a JSON document (surrounding whitespace allowed).

  ## Examples

      iex> Nx.Safetensors.JSON.decode("[1, 2")
      {:error, "unexpected end of input"}

      iex> Nx.Safetensors.JSON.decode(~s({"a": 1, "a": 2}))
      {:error, "duplicate key \\"a\\""}
  """
  @spec decode(binary) :: {:ok, value} | {:error, String.t()}
  def decode(text) when is_binary(text) do
    {value, rest} = value(skip(text), 0)

    case skip(rest) do
      "" -> {:ok, value}
      _ -> {:error, "unexpected text after the document"}
    end
  catch
    {__MODULE__, reason} -> {:error, reason}
  end

  defp fail(reason), do: throw({__MODULE__, reason})

  defp value(_text, depth) when depth > @max_depth, do: fail("nested too deeply")
  defp value("{" <> rest, depth), do: object(skip(rest), [], depth + 1)
  defp value("[" <> rest, depth), do: array(skip(rest), [], depth + 1)
  defp value("\"" <> rest, _depth), do: chars(rest, [])
  defp value("true" <> rest, _depth), do: {true, rest}
  defp value("false" <> rest, _depth), do: {false, rest}
  defp value("null" <> rest, _depth), do: {nil, rest}
  defp value(<<c, _::binary>> = text, _depth) when c in ?0..?9 or c == ?-, do: number(text)
  defp value("", _depth), do: fail("unexpected end of input")
  defp value(<<c, _::binary>>, _depth), do: fail("unexpected character #{inspect(<<c>>)}")

  defp object("}" <> rest, [], _depth), do: {{:object, []}, rest}

  defp object("\"" <> rest, acc, depth) do
    {key, rest} = chars(rest, [])
    if List.keymember?(acc, key, 0), do: fail("duplicate key #{inspect(key)}")

    rest =
      case skip(rest) do
        ":" <> rest -> skip(rest)
        "" -> fail("unexpected end of input")
        _ -> fail("expected : after an object key")
      end

    {value, rest} = value(rest, depth)
    acc = [{key, value} | acc]

    case skip(rest) do
      "," <> rest -> object(skip(rest), acc, depth)
      "}" <> rest -> {{:object, Enum.reverse(acc)}, rest}
      "" -> fail("unexpected end of input")
      _ -> fail("expected , or } in an object")
    end
  end

  defp object("", _acc, _depth), do: fail("unexpected end of input")
  defp object(_text, _acc, _depth), do: fail("expected a string key")

  defp array("]" <> rest, [], _depth), do: {[], rest}

  defp array(text, acc, depth) do
    {value, rest} = value(text, depth)
    acc = [value | acc]

    case skip(rest) do
      "," <> rest -> array(skip(rest), acc, depth)
      "]" <> rest -> {Enum.reverse(acc), rest}
      "" -> fail("unexpected end of input")
      _ -> fail("expected , or ] in an array")
    end
  end

  defp chars("\"" <> rest, acc) do
    string = IO.iodata_to_binary(Enum.reverse(acc))
    if String.valid?(string), do: {string, rest}, else: fail("invalid UTF-8 in a string")
  end

  defp chars("\\" <> rest, acc) do
    case rest do
      "\"" <> rest -> chars(rest, [?" | acc])
      "\\" <> rest -> chars(rest, [?\\ | acc])
      "/" <> rest -> chars(rest, [?/ | acc])
      "b" <> rest -> chars(rest, [?\b | acc])
      "f" <> rest -> chars(rest, [?\f | acc])
      "n" <> rest -> chars(rest, [?\n | acc])
      "r" <> rest -> chars(rest, [?\r | acc])
      "t" <> rest -> chars(rest, [?\t | acc])
      "u" <> rest -> unicode(rest, acc)
      _ -> fail("invalid escape in a string")
    end
  end

  defp chars(<<c, _::binary>>, _acc) when c < 0x20, do: fail("control character in a string")
  defp chars(<<c, rest::binary>>, acc), do: chars(rest, [c | acc])
  defp chars("", _acc), do: fail("unexpected end of input")

  defp unicode(<<hex::binary-size(4), rest::binary>>, acc) do
    code = hex!(hex)

    cond do
      code in 0xD800..0xDBFF ->
        case rest do
          <<"\\u", low::binary-size(4), rest::binary>> ->
            low = hex!(low)

            if low in 0xDC00..0xDFFF,
              do:
                chars(rest, [<<0x10000 + ((code - 0xD800) <<< 10) + (low - 0xDC00)::utf8>> | acc]),
              else: fail("invalid surrogate pair")

          _ ->
            fail("invalid surrogate pair")
        end

      code in 0xDC00..0xDFFF ->
        fail("invalid surrogate pair")

      true ->
        chars(rest, [<<code::utf8>> | acc])
    end
  end

  defp unicode(_rest, _acc), do: fail("invalid \\u escape")

  defp hex!(hex) do
    case Integer.parse(hex, 16) do
      {code, ""} when code >= 0 -> code
      _ -> fail("invalid \\u escape")
    end
  end

  defp number(text) do
    {sign, rest} =
      if String.starts_with?(text, "-"),
        do: {"-", binary_part(text, 1, byte_size(text) - 1)},
        else: {"", text}

    {int, rest} = digits(rest)

    cond do
      int == "" -> fail("invalid number")
      byte_size(int) > 1 and String.starts_with?(int, "0") -> fail("invalid number")
      true -> :ok
    end

    {frac, rest} =
      case rest do
        "." <> rest ->
          case digits(rest) do
            {"", _} -> fail("invalid number")
            {frac, rest} -> {"." <> frac, rest}
          end

        _ ->
          {"", rest}
      end

    {exp, rest} =
      case rest do
        <<e, rest::binary>> when e in [?e, ?E] ->
          {sign, rest} =
            case rest do
              <<s, rest::binary>> when s in [?+, ?-] -> {<<s>>, rest}
              _ -> {"", rest}
            end

          case digits(rest) do
            {"", _} -> fail("invalid number")
            {exp, _rest} when byte_size(exp) > 4 -> fail("number out of range")
            {exp, rest} -> {"e" <> sign <> exp, rest}
          end

        _ ->
          {"", rest}
      end

    cond do
      byte_size(int) > 40 ->
        fail("number out of range")

      frac == "" and exp == "" ->
        {String.to_integer(sign <> int), rest}

      true ->
        frac = if frac == "", do: ".0", else: frac

        case Float.parse(sign <> int <> frac <> exp) do
          {float, ""} -> {float, rest}
          _ -> fail("number out of range")
        end
    end
  rescue
    ArgumentError -> fail("number out of range")
  end

  defp digits(text), do: digits(text, 0, text)
  defp digits(<<c, rest::binary>>, n, text) when c in ?0..?9, do: digits(rest, n + 1, text)
  defp digits(rest, n, text), do: {binary_part(text, 0, n), rest}

  defp skip(<<c, rest::binary>>) when c in [?\s, ?\t, ?\n, ?\r], do: skip(rest)
  defp skip(text), do: text
end
