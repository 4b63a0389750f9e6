defmodule Nx.Defn.Composite do
  @moduledoc """
  Recursive helpers over composite values: tensors, numbers and `Complex`
  numbers (the leaves) nested in any `Nx.Container` (tuples, maps, derived
  structs).

  They work inside and outside `defn`, and compilers use them to flatten
  arguments and results.
  """

  alias Nx.Tensor, as: T

  @doc """
  Returns true when `term` is a leaf: a tensor, a number or a `Complex`.

  ## Examples

      iex> Nx.Defn.Composite.leaf?(1.5)
      true
      iex> Nx.Defn.Composite.leaf?({1, 2})
      false
  """
  @spec leaf?(term) :: boolean
  def leaf?(%T{}), do: true
  def leaf?(%Complex{}), do: true
  def leaf?(number) when is_number(number), do: true
  def leaf?(_), do: false

  @doc """
  Counts the leaves of a composite value.

  ## Examples

      iex> Nx.Defn.Composite.count({1, {Nx.tensor(2), %{a: 3, b: 4}}})
      4
  """
  @spec count(term) :: non_neg_integer
  def count(composite), do: reduce(composite, 0, fn _, acc -> acc + 1 end)

  @doc """
  Maps `fun` over every leaf of a composite value, keeping its structure.

  ## Examples

      iex> Nx.Defn.Composite.traverse({1, %{a: 2}}, &(&1 * 10))
      {10, %{a: 20}}
  """
  @spec traverse(term, (term -> term)) :: term
  def traverse(composite, fun) when is_function(fun, 1) do
    {result, :ok} = traverse(composite, :ok, fn leaf, :ok -> {fun.(leaf), :ok} end)
    result
  end

  @doc """
  Maps `fun` over every leaf of a composite value, threading `acc`.

  ## Examples

      iex> Nx.Defn.Composite.traverse({1, {2, 3}}, 0, fn x, acc -> {x + acc, acc + 1} end)
      {{1, {3, 5}}, 3}
  """
  @spec traverse(term, acc, (term, acc -> {term, acc})) :: {term, acc} when acc: term
  def traverse(composite, acc, fun) when is_function(fun, 2) do
    if leaf?(composite) do
      fun.(composite, acc)
    else
      Nx.Container.traverse(composite, acc, &traverse(&1, &2, fun))
    end
  end

  @doc """
  Reduces every leaf of a composite value with `fun`.

  ## Examples

      iex> Nx.Defn.Composite.reduce({1, %{a: 2, b: {3}}}, 0, &+/2)
      6
  """
  @spec reduce(term, acc, (term, acc -> acc)) :: acc when acc: term
  def reduce(composite, acc, fun) when is_function(fun, 2) do
    if leaf?(composite) do
      fun.(composite, acc)
    else
      Nx.Container.reduce(composite, acc, &reduce(&1, &2, fun))
    end
  end

  @doc """
  Flattens a list of composite values into the list of their leaves,
  followed by `tail`. `fun` is applied to the leaves that are numbers.

  ## Examples

      iex> Nx.Defn.Composite.flatten_list([1, {2, %{a: 3}}])
      [1, 2, 3]

      iex> Nx.Defn.Composite.flatten_list([{1, 2}], [:tail], &(&1 * 2))
      [2, 4, :tail]
  """
  @spec flatten_list([term], [term], (term -> term)) :: [term]
  def flatten_list(composites, tail \\ [], fun \\ & &1) when is_list(composites) do
    composites
    |> Enum.reduce([], fn composite, acc ->
      reduce(composite, acc, fn
        %T{} = tensor, acc -> [tensor | acc]
        number, acc -> [fun.(number) | acc]
      end)
    end)
    |> Enum.reverse(tail)
  end

  @doc """
  Returns true when two composite values have the same structure and `fun`
  returns true for every pair of leaves in the same position.

  ## Examples

      iex> Nx.Defn.Composite.compatible?({1, 2}, {3, 4}, fn _, _ -> true end)
      true
      iex> Nx.Defn.Composite.compatible?({1, 2}, {3}, fn _, _ -> true end)
      false
      iex> Nx.Defn.Composite.compatible?(%{a: 1}, %{b: 1}, fn _, _ -> true end)
      false
  """
  @spec compatible?(term, term, (term, term -> boolean)) :: boolean
  def compatible?(left, right, fun) do
    cond do
      leaf?(left) and leaf?(right) ->
        fun.(left, right)

      leaf?(left) or leaf?(right) ->
        false

      is_tuple(left) and is_tuple(right) ->
        tuple_size(left) == tuple_size(right) and
          pairwise?(Tuple.to_list(left), Tuple.to_list(right), fun)

      is_struct(left) or is_struct(right) ->
        is_struct(right, left.__struct__) and is_struct(left, right.__struct__) and
          pairwise?(children(left), children(right), fun)

      is_map(left) and is_map(right) ->
        map_size(left) == map_size(right) and
          Enum.all?(left, fn {key, value} ->
            Map.has_key?(right, key) and compatible?(value, Map.fetch!(right, key), fun)
          end)

      true ->
        false
    end
  end

  defp children(container), do: container |> Nx.Container.reduce([], &[&1 | &2]) |> Enum.reverse()

  defp pairwise?(left, right, fun) do
    length(left) == length(right) and
      Enum.all?(Enum.zip(left, right), fn {l, r} -> compatible?(l, r, fun) end)
  end

  @doc """
  Returns true when two composite values hold tensors of the same type,
  shape and names (and vectorized axes) in the same structure.

  ## Examples

      iex> Nx.Defn.Composite.same_templates?({Nx.iota({2})}, {Nx.iota({2})})
      true
      iex> Nx.Defn.Composite.same_templates?(Nx.iota({2}), Nx.iota({3}))
      false
  """
  @spec same_templates?(term, term) :: boolean
  def same_templates?(left, right) do
    compatible?(left, right, fn l, r -> template_of(l) == template_of(r) end)
  end

  @doc """
  Replaces every leaf with its template (see `Nx.template/3`): a tensor
  without data. Numbers become scalar templates of their inferred type.

  ## Examples

      iex> Nx.Defn.Composite.to_template({1.0, Nx.iota({2})})
      {Nx.template({}, :f32), Nx.template({2}, :s32)}
  """
  @spec to_template(term) :: term
  def to_template(composite), do: traverse(composite, &template_of/1)

  defp template_of(%T{} = tensor), do: %{tensor | data: %Nx.TemplateBackend{}}

  defp template_of(number) do
    %T{data: %Nx.TemplateBackend{}, type: Nx.Type.infer(number), shape: {}, names: []}
  end

  @doc """
  The recursive step of `Nx.LazyContainer.traverse/3`: calls `fun` with a
  template and a builder for each leaf, descending into containers.

  ## Examples

      iex> {_, shapes} =
      ...>   Nx.Defn.Composite.lazy_traverse({Nx.iota({2, 2}), 1}, [], fn t, _fun, acc ->
      ...>     {t, [Nx.shape(t) | acc]}
      ...>   end)
      iex> shapes
      [{}, {2, 2}]
  """
  @spec lazy_traverse(term, acc, (Nx.Tensor.t(), (() -> Nx.Tensor.t()), acc -> {term, acc})) ::
          {term, acc}
        when acc: term
  def lazy_traverse(composite, acc, fun) when is_function(fun, 3) do
    Nx.LazyContainer.traverse(composite, acc, fun)
  end
end
