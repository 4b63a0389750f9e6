defmodule Nx.Serving.Portable do
  @moduledoc false
  # Terms that cross nodes in distributed servings. Tensors of Nx.Torch.Backend
  # are handles to memory of one VM: sent to another node as they are, they
  # would arrive as dead references. `encode/1` walks any term and replaces
  # such tensors by their type, shape, names and bytes (and the entries of an
  # `Nx.Batch`, which are functions, by the tensors they build); `decode/1`
  # rebuilds them on the default backend of the receiving process.
  #
  # Functions, pids, references and ports are left as they are: a function
  # that captured a tensor cannot be made portable.

  @tensor :"$nx_serving_tensor"
  @batch :"$nx_serving_batch"

  @spec encode(term) :: term
  def encode(%Nx.Tensor{data: %Nx.TemplateBackend{}} = tensor), do: tensor
  def encode(%Nx.Tensor{data: %Nx.Defn.Expr{}} = tensor), do: tensor

  def encode(%Nx.Tensor{type: type, shape: shape, names: names} = tensor) do
    {@tensor, type, shape, names, Nx.to_binary(tensor)}
  end

  def encode(%Nx.Batch{} = batch) do
    {batch, entries} = Nx.Batch.__materialize__(batch)
    entries = Enum.map(entries, fn {leaves, size} -> {Enum.map(leaves, &encode/1), size} end)
    {@batch, %{batch | template: encode(batch.template)}, entries}
  end

  def encode(list) when is_list(list), do: encode_list(list)
  def encode(tuple) when is_tuple(tuple), do: map_tuple(tuple, &encode/1)
  def encode(map) when is_map(map), do: :maps.map(fn _key, value -> encode(value) end, map)
  def encode(other), do: other

  @spec decode(term) :: term
  def decode({@tensor, type, shape, names, binary}) when is_binary(binary) do
    binary |> Nx.from_binary(type) |> Nx.reshape(shape, names: names)
  end

  def decode({@batch, %Nx.Batch{} = batch, entries}) do
    entries = Enum.map(entries, fn {leaves, size} -> {Enum.map(leaves, &decode/1), size} end)
    Nx.Batch.__from_materialized__(%{batch | template: decode(batch.template)}, entries)
  end

  def decode(list) when is_list(list), do: decode_list(list)
  def decode(tuple) when is_tuple(tuple), do: map_tuple(tuple, &decode/1)
  def decode(map) when is_map(map), do: :maps.map(fn _key, value -> decode(value) end, map)
  def decode(other), do: other

  # Lists may be improper.
  defp encode_list([head | tail]), do: [encode(head) | encode_list(tail)]
  defp encode_list([]), do: []
  defp encode_list(tail), do: encode(tail)

  defp decode_list([head | tail]), do: [decode(head) | decode_list(tail)]
  defp decode_list([]), do: []
  defp decode_list(tail), do: decode(tail)

  defp map_tuple(tuple, fun), do: tuple |> Tuple.to_list() |> Enum.map(fun) |> List.to_tuple()
end
