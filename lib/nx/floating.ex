defmodule Nx.Floating do
  @moduledoc """
  Conversions between Elixir numbers and the binary encodings of the
  floating-point formats the BEAM has no bit syntax for (8-bit E4M3FN).

  Tensors of these types are created and read with the usual functions
  (`Nx.tensor/2`, `Nx.to_list/1`); this module handles single values.
  """

  @type value :: float | :nan | :infinity | :neg_infinity

  @doc """
  Decodes one f8 E4M3FN value (one byte). The format has no infinities:
  the two NaN encodings (0x7F and 0xFF) decode to `:nan`.

  ## Examples

      iex> Nx.Floating.load_f8_e4m3fn(<<0x40>>)
      2.0

      iex> Nx.Floating.load_f8_e4m3fn(<<0xC4>>)
      -3.0

      iex> Nx.Floating.load_f8_e4m3fn(<<0xFF>>)
      :nan
  """
  @spec load_f8_e4m3fn(<<_::8>>) :: value
  def load_f8_e4m3fn(<<_::8>> = byte), do: byte |> Nx.Shared.decode({:f8_e4m3fn, 8}) |> hd()

  @doc """
  Encodes a number (or `:nan`, `:infinity`, `:neg_infinity`) as one f8
  E4M3FN byte. Values beyond the largest finite magnitude (448) and the
  infinities saturate to ±448; `:nan` encodes as 0x7F.

  ## Examples

      iex> Nx.Floating.dump_f8_e4m3fn(2.0)
      <<0x40>>

      iex> Nx.Floating.dump_f8_e4m3fn(1000.0)
      <<0x7E>>

      iex> Nx.Floating.dump_f8_e4m3fn(:neg_infinity)
      <<0xFE>>

      iex> Nx.Floating.dump_f8_e4m3fn(:nan)
      <<0x7F>>
  """
  @spec dump_f8_e4m3fn(number | value) :: <<_::8>>
  def dump_f8_e4m3fn(value), do: Nx.Shared.encode(value, {:f8_e4m3fn, 8})
end
