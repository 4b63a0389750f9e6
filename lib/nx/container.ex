defprotocol Nx.Container do
  @moduledoc """
  How `Nx` and `defn` walk data structures that hold tensors.

  Numbers, `Complex` numbers and tensors are leaves. A container is a data
  structure whose children are leaves or other containers: this project
  implements the protocol for tuples and maps (visited in sorted key order),
  and any struct can derive it:

      defmodule Layer do
        @derive {Nx.Container, containers: [:weights, :bias], keep: [:activation]}
        defstruct [:weights, :bias, :activation, :cache]
      end

  `:containers` (required) names the fields holding tensors or containers;
  inside `defn` they become tensor expressions. Fields listed in `:keep`
  are passed through untouched (and therefore take part in the `defn`
  compilation cache key: a new value means a new compilation). Every other
  field is reset to its default value when the struct is traversed.

  Both functions here are one level deep: `fun` receives the direct
  children. `Nx.Defn.Composite` has the recursive variants.
  """

  @fallback_to_any true

  @doc """
  Maps `fun` over the direct children of `data`, threading `acc`.

  `fun` receives a child (a leaf or a container) and the accumulator and
  returns `{new_child, new_acc}`; the result is `{new_data, acc}`.

  ## Examples

      iex> Nx.Container.traverse({1, 2}, 0, fn x, acc -> {x * 10, acc + x} end)
      {{10, 20}, 3}

      iex> Nx.Container.traverse(%{b: 2, a: 1}, [], fn x, acc -> {x, [x | acc]} end)
      {%{a: 1, b: 2}, [2, 1]}
  """
  @spec traverse(t(), acc, (term, acc -> {term, acc})) :: {t(), acc} when acc: term()
  def traverse(data, acc, fun)

  @doc """
  Reduces the direct children of `data` with `fun`, starting from `acc`.

  ## Examples

      iex> Nx.Container.reduce({1, 2, 3}, 0, fn x, acc -> x + acc end)
      6

      iex> Nx.Container.reduce(%{y: 2, x: 1}, [], fn x, acc -> [x | acc] end)
      [2, 1]
  """
  @spec reduce(t(), acc, (term, acc -> acc)) :: acc when acc: term()
  def reduce(data, acc, fun)
end

defimpl Nx.Container, for: Tuple do
  def traverse(tuple, acc, fun) do
    {list, acc} = tuple |> Tuple.to_list() |> Enum.map_reduce(acc, fun)
    {List.to_tuple(list), acc}
  end

  def reduce(tuple, acc, fun), do: tuple |> Tuple.to_list() |> Enum.reduce(acc, fun)
end

defimpl Nx.Container, for: Map do
  # Keys are visited in term order so that two maps with the same keys always
  # flatten to the same sequence of tensors.
  def traverse(map, acc, fun) do
    {pairs, acc} =
      map
      |> Enum.sort_by(&elem(&1, 0))
      |> Enum.map_reduce(acc, fn {key, value}, acc ->
        {value, acc} = fun.(value, acc)
        {{key, value}, acc}
      end)

    {Map.new(pairs), acc}
  end

  def reduce(map, acc, fun) do
    map
    |> Enum.sort_by(&elem(&1, 0))
    |> Enum.reduce(acc, fn {_key, value}, acc -> fun.(value, acc) end)
  end
end

defimpl Nx.Container, for: Any do
  defmacro __deriving__(module, struct, options) do
    containers = Keyword.fetch!(options, :containers)
    keep = Keyword.get(options, :keep, [])

    for field <- containers ++ keep, not Map.has_key?(struct, field) do
      raise ArgumentError,
            "cannot derive Nx.Container for #{inspect(module)}: it has no field #{inspect(field)}"
    end

    reset = struct |> Map.drop([:__struct__ | containers ++ keep]) |> Map.to_list()

    quote do
      defimpl Nx.Container, for: unquote(module) do
        @containers unquote(containers)
        @keep unquote(keep)
        @reset unquote(Macro.escape(reset))

        def traverse(struct, acc, fun) do
          {values, acc} =
            Enum.map_reduce(@containers, acc, fn field, acc ->
              {value, acc} = fun.(Map.fetch!(struct, field), acc)
              {{field, value}, acc}
            end)

          kept = Enum.map(@keep, &{&1, Map.fetch!(struct, &1)})
          {struct!(unquote(module), @reset ++ kept ++ values), acc}
        end

        def reduce(struct, acc, fun) do
          Enum.reduce(@containers, acc, &fun.(Map.fetch!(struct, &1), &2))
        end
      end
    end
  end

  def traverse(data, _acc, _fun) do
    raise Protocol.UndefinedError,
      protocol: @protocol,
      value: data,
      description: "see the documentation of Nx.Container for the values defn accepts"
  end

  def reduce(data, _acc, _fun) do
    raise Protocol.UndefinedError,
      protocol: @protocol,
      value: data,
      description: "see the documentation of Nx.Container for the values defn accepts"
  end
end
