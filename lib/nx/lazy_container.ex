defprotocol Nx.LazyContainer do
  @moduledoc """
  Data structures whose tensors may be built lazily.

  `Nx.Defn.jit/2`, `Nx.Defn.compile/3` and friends only need the type and
  shape of each argument to trace and compile a function; the values are
  needed later, when the compiled code runs. A lazy container describes
  each tensor it holds as a template (see `Nx.template/3`) plus a
  zero-arity function that builds the tensor, so that expensive tensors are
  only materialized when (and if) a compiler asks for them.

  Tensors, numbers and `Complex` numbers are lazy containers of one tensor.
  Tuples and maps are traversed recursively. Anything else falls back to
  `Nx.Container`.
  """

  @fallback_to_any true

  @doc """
  Traverses every tensor of `data`, recursively, with `acc` and `fun`.

  `fun` receives the tensor's template, a zero-arity function that returns
  the tensor, and the accumulator; it returns `{replacement, acc}`. The
  result is the data structure with every tensor replaced, and the final
  accumulator.

  Implementations holding other containers must call
  `Nx.Defn.Composite.lazy_traverse/3` on them.

  ## Examples

      iex> {templates, count} =
      ...>   Nx.LazyContainer.traverse({1, 2.0}, 0, fn template, _fun, n ->
      ...>     {Nx.type(template), n + 1}
      ...>   end)
      iex> {templates, count}
      {{{:s, 32}, {:f, 32}}, 2}
  """
  @spec traverse(t(), acc, (Nx.Tensor.t(), (() -> Nx.Tensor.t()), acc -> {term, acc})) ::
          {term, acc}
        when acc: term()
  def traverse(data, acc, fun)
end

defimpl Nx.LazyContainer, for: Nx.Tensor do
  def traverse(tensor, acc, fun) do
    template = %{tensor | data: %Nx.TemplateBackend{}}
    fun.(template, fn -> tensor end, acc)
  end
end

for module <- [Integer, Float, Complex] do
  defimpl Nx.LazyContainer, for: module do
    def traverse(number, acc, fun) do
      type = Nx.Type.infer(number)
      template = %Nx.Tensor{data: %Nx.TemplateBackend{}, type: type, shape: {}, names: []}
      fun.(template, fn -> Nx.tensor(number, type: type) end, acc)
    end
  end
end

defimpl Nx.LazyContainer, for: Any do
  def traverse(data, acc, fun) do
    Nx.Container.traverse(data, acc, &Nx.Defn.Composite.lazy_traverse(&1, &2, fun))
  end
end
