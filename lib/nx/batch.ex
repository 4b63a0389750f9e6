defmodule Nx.Batch do
  @moduledoc """
  A batch: entries (tensors, numbers or containers of them, all with the
  same structure) gathered along a new or existing leading axis.

  Building a batch does no work on the tensors: it records, for each
  entry, how to obtain it. The entries are joined (and padded, see
  `pad/2`) when the batch is given to a `defn` function, `Nx.Defn.jit/2`
  or `Nx.Defn.compile/3`, which see it as the container of its joined
  tensors (the batch implements `Nx.LazyContainer`):

      iex> batch = Nx.Batch.stack([Nx.tensor([1, 2]), Nx.tensor([3, 4])])
      iex> Nx.Defn.jit_apply(&Nx.add(&1, 10), [batch])
      #Nx.Tensor<
        s32[2][2]
        [
          [11, 12],
          [13, 14]
        ]
      >

  `Nx.Serving` merges the batches of concurrent callers into one and
  splits the result back.

  The `:size` field (the number of entries, padding excluded), `:pad`
  and `:key` are public; the others are internal.
  """

  @axis 0

  @enforce_keys [:key]
  @derive {Inspect, only: [:size, :pad, :key]}
  defstruct [:key, stack: [], size: 0, template: nil, pad: 0]

  @type t :: %Nx.Batch{
          stack: [{[(() -> Nx.Tensor.t())], pos_integer}],
          size: non_neg_integer,
          template: Nx.Container.t() | Nx.Tensor.t() | nil,
          pad: non_neg_integer,
          key: term
        }

  # The stack holds one {builders, size} pair per entry, the last entry
  # first. `builders` has one builder per leaf of the template (in traversal
  # order): a zero-arity function returning that leaf with `size` rows along
  # the leading axis, or {:stack, fun} for a stacked entry, whose function
  # returns the leaf without the leading axis (so that a batch of stacked
  # entries is joined with one Nx.stack/2).

  @doc """
  Returns an empty batch with the key `:default`.

  ## Examples

      iex> batch = Nx.Batch.new()
      iex> {batch.size, batch.pad, batch.key}
      {0, 0, :default}
  """
  @spec new() :: t
  def new, do: %Nx.Batch{key: :default}

  @doc """
  Sets the batch key: servings started with `:batch_keys` accumulate and
  run batches of each key separately (see `Nx.Serving`).

  ## Examples

      iex> batch = Nx.Batch.stack([Nx.tensor(1)]) |> Nx.Batch.key(:small)
      iex> batch.key
      :small
  """
  @spec key(t, term) :: t
  def key(%Nx.Batch{} = batch, key), do: %{batch | key: key}

  @doc """
  Adds `entries` to `batch` (a new one by default), each entry becoming
  one row along a new leading axis.

  Every entry must have the structure, types and shapes of the first.

  ## Examples

      iex> batch = Nx.Batch.stack([Nx.tensor([1, 2]), Nx.tensor([3, 4])])
      iex> batch = Nx.Batch.stack(batch, [Nx.tensor([5, 6])])
      iex> batch.size
      3
      iex> Nx.Defn.jit_apply(&Function.identity/1, [batch])
      #Nx.Tensor<
        s32[3][2]
        [
          [1, 2],
          [3, 4],
          [5, 6]
        ]
      >

  Containers are stacked leaf by leaf:

      iex> batch = Nx.Batch.stack([{1, Nx.tensor([1.0])}, {2, Nx.tensor([2.0])}])
      iex> {ints, floats} = Nx.Defn.jit_apply(&Function.identity/1, [batch])
      iex> {Nx.to_list(ints), Nx.to_list(floats)}
      {[1, 2], [[1.0], [2.0]]}

  ## Error cases

      iex> Nx.Batch.stack([Nx.tensor([1, 2]), Nx.tensor([1, 2, 3])])
      ** (ArgumentError) cannot add an entry of template s32[3] to a batch of s32[2]
  """
  @spec stack(t, [Nx.LazyContainer.t()]) :: t
  def stack(%Nx.Batch{} = batch \\ new(), entries) when is_list(entries),
    do: add(batch, entries, :stack)

  @doc """
  Adds `entries` to `batch` (a new one by default), joining them along
  their existing leading axis: an entry whose tensors have `n` rows adds
  `n` to the size of the batch.

  Every tensor of an entry must have the same number of rows, and every
  entry the structure and types of the first (the leading axis aside).

  ## Examples

      iex> batch = Nx.Batch.concatenate([Nx.tensor([[1, 2], [3, 4]]), Nx.tensor([[5, 6]])])
      iex> batch.size
      3
      iex> Nx.Defn.jit_apply(&Function.identity/1, [batch])
      #Nx.Tensor<
        s32[3][2]
        [
          [1, 2],
          [3, 4],
          [5, 6]
        ]
      >

  ## Error cases

      iex> Nx.Batch.concatenate([Nx.tensor(1)])
      ** (ArgumentError) cannot concatenate a scalar into a batch, got: s32

      iex> Nx.Batch.concatenate([{Nx.tensor([1]), Nx.tensor([1, 2])}])
      ** (ArgumentError) the tensors of an entry given to concatenate must have the same number of rows, got 1 and 2
  """
  @spec concatenate(t, [Nx.LazyContainer.t()]) :: t
  def concatenate(%Nx.Batch{} = batch \\ new(), entries) when is_list(entries),
    do: add(batch, entries, :concatenate)

  defp add(batch, entries, mode) do
    Enum.reduce(entries, batch, fn entry, %Nx.Batch{} = batch ->
      {template, size, builders} = entry(entry, mode)

      cond do
        batch.template == nil ->
          :ok

        same_template?(batch.template, template) ->
          :ok

        true ->
          raise ArgumentError,
                "cannot add an entry of template #{describe(template)} " <>
                  "to a batch of #{describe(batch.template)}"
      end

      if size == 0 do
        %{batch | template: batch.template || template}
      else
        %{
          batch
          | template: batch.template || template,
            stack: [{builders, size} | batch.stack],
            size: batch.size + size
        }
      end
    end)
  end

  defp entry(entry, :stack) do
    {template, builders} =
      Nx.LazyContainer.traverse(entry, [], fn template, fun, acc ->
        {template, [{:stack, fun} | acc]}
      end)

    {template, 1, Enum.reverse(builders)}
  end

  defp entry(entry, :concatenate) do
    {template, {size, builders}} =
      Nx.LazyContainer.traverse(entry, {nil, []}, fn template, fun, {size, acc} ->
        case template.shape do
          {} ->
            raise ArgumentError,
                  "cannot concatenate a scalar into a batch, got: #{describe(template)}"

          shape ->
            rows = elem(shape, @axis)

            if size != nil and rows != size do
              raise ArgumentError,
                    "the tensors of an entry given to concatenate must have the same " <>
                      "number of rows, got #{size} and #{rows}"
            end

            row = %{template | shape: Tuple.delete_at(shape, @axis), names: tl(template.names)}
            {row, {rows, [fun | acc]}}
        end
      end)

    if size == nil do
      raise ArgumentError, "cannot concatenate an entry without tensors: #{inspect(entry)}"
    end

    {template, size, Enum.reverse(builders)}
  end

  @doc """
  Merges two batches: the entries of `left` come first. See `merge/1`.

  ## Examples

      iex> left = Nx.Batch.stack([Nx.tensor(1), Nx.tensor(2)])
      iex> right = Nx.Batch.concatenate([Nx.tensor([3, 4, 5])])
      iex> batch = Nx.Batch.merge(left, right)
      iex> batch.size
      5
      iex> Nx.Defn.jit_apply(&Function.identity/1, [batch]) |> Nx.to_list()
      [1, 2, 3, 4, 5]
  """
  @spec merge(t, t) :: t
  def merge(%Nx.Batch{} = left, %Nx.Batch{} = right), do: merge([left, right])

  @doc """
  Merges a list of batches into one, in order. Sizes and paddings add up
  (the padding still goes at the end). The batches must have the same key
  and compatible templates. An empty list gives `new/0`.

  ## Examples

      iex> batches = for i <- 1..3, do: Nx.Batch.stack([Nx.tensor([i, -i])])
      iex> batch = Nx.Batch.merge(batches)
      iex> batch.size
      3
      iex> Nx.Defn.jit_apply(&Function.identity/1, [batch]) |> Nx.to_list()
      [[1, -1], [2, -2], [3, -3]]

  ## Error cases

      iex> a = Nx.Batch.stack([Nx.tensor(1)]) |> Nx.Batch.key(:a)
      iex> b = Nx.Batch.stack([Nx.tensor(2)]) |> Nx.Batch.key(:b)
      iex> Nx.Batch.merge([a, b])
      ** (ArgumentError) cannot merge batches with different keys: :a and :b
  """
  @spec merge([t]) :: t
  def merge([]), do: new()

  def merge([%Nx.Batch{} = first | rest]) do
    Enum.reduce(rest, first, fn %Nx.Batch{} = batch, acc ->
      if batch.key != acc.key do
        raise ArgumentError,
              "cannot merge batches with different keys: " <>
                "#{inspect(acc.key)} and #{inspect(batch.key)}"
      end

      if acc.template != nil and batch.template != nil and
           not same_template?(acc.template, batch.template) do
        raise ArgumentError,
              "cannot merge batches of templates #{describe(acc.template)} " <>
                "and #{describe(batch.template)}"
      end

      %{
        acc
        | template: acc.template || batch.template,
          stack: batch.stack ++ acc.stack,
          size: acc.size + batch.size,
          pad: acc.pad + batch.pad
      }
    end)
  end

  @doc """
  Splits `batch` after its first `n` entries: returns `{first, rest}`,
  where `first` has at most `n` entries. An entry that straddles the
  boundary (from `concatenate/2`) is sliced.

  Padding fills `first` up to `n` rows when it has fewer entries; what
  is left of it stays with `rest`.

  ## Examples

      iex> batch = Nx.Batch.concatenate([Nx.tensor([1, 2]), Nx.tensor([3, 4, 5])])
      iex> {first, rest} = Nx.Batch.split(batch, 3)
      iex> {first.size, rest.size}
      {3, 2}
      iex> Nx.Defn.jit_apply(&Function.identity/1, [first]) |> Nx.to_list()
      [1, 2, 3]
      iex> Nx.Defn.jit_apply(&Function.identity/1, [rest]) |> Nx.to_list()
      [4, 5]

      iex> batch = Nx.Batch.stack([Nx.tensor(1)]) |> Nx.Batch.pad(3)
      iex> {first, rest} = Nx.Batch.split(batch, 2)
      iex> {first.size, first.pad, rest.size, rest.pad}
      {1, 1, 0, 2}
  """
  @spec split(t, pos_integer) :: {t, t}
  def split(%Nx.Batch{} = batch, n) when is_integer(n) and n > 0 do
    %{stack: stack, size: size, pad: pad} = batch

    if n < size do
      # The stack is newest first: the last `size - n` rows go to the rest.
      {rest, first} = take_rows(stack, size - n, [])
      {%{batch | stack: first, size: n, pad: 0}, %{batch | stack: rest, size: size - n}}
    else
      first_pad = min(pad, n - size)
      {%{batch | pad: first_pad}, %{batch | stack: [], size: 0, pad: pad - first_pad}}
    end
  end

  # Takes `rows` rows from the front of the (newest-first) stack; returns
  # {taken (newest first), remaining}.
  defp take_rows([{builders, size} | stack], rows, acc) when size <= rows do
    taken = [{builders, size} | acc]
    if size == rows, do: {Enum.reverse(taken), stack}, else: take_rows(stack, rows - size, taken)
  end

  defp take_rows([{builders, size} | stack], rows, acc) do
    keep = size - rows
    head = Enum.map(builders, &slice_builder(&1, 0, keep))
    tail = Enum.map(builders, &slice_builder(&1, keep, rows))
    {Enum.reverse([{tail, rows} | acc]), [{head, keep} | stack]}
  end

  defp slice_builder(builder, start, length),
    do: fn -> Nx.slice_along_axis(build(builder), start, length, axis: @axis) end

  defp build({:stack, fun}), do: Nx.new_axis(fun.(), @axis)
  defp build(fun), do: fun.()

  @doc """
  Sets the padding of `batch`: that many rows of zeros are added at the
  end of its tensors when they are joined. Padding does not count in
  `:size`. `Nx.Serving` takes the padded rows off the results.

  ## Examples

      iex> batch = Nx.Batch.stack([Nx.tensor([1, 2])]) |> Nx.Batch.pad(2)
      iex> {batch.size, batch.pad}
      {1, 2}
      iex> Nx.Defn.jit_apply(&Function.identity/1, [batch]) |> Nx.to_list()
      [[1, 2], [0, 0], [0, 0]]
  """
  @spec pad(t, non_neg_integer) :: t
  def pad(%Nx.Batch{} = batch, pad) when is_integer(pad) and pad >= 0, do: %{batch | pad: pad}

  ## Helpers

  defp same_template?(left, right) do
    Nx.Defn.Composite.compatible?(left, right, fn l, r ->
      l.type == r.type and l.shape == r.shape
    end)
  end

  defp describe(template) do
    template
    |> Nx.Defn.Composite.traverse(fn %Nx.Tensor{type: type, shape: shape} ->
      Nx.Type.to_string(type) <> Enum.map_join(Tuple.to_list(shape), &"[#{&1}]")
    end)
    |> case do
      string when is_binary(string) -> string
      other -> inspect(other)
    end
  end

  @doc false
  # Replaces the builders by the tensors they return, so that the batch can
  # be sent to another node (see Nx.Serving): returns {batch, tensors}, the
  # batch holding `nil` builders and each entry's tensors in order.
  def __materialize__(%Nx.Batch{stack: stack} = batch) do
    tensors = Enum.map(stack, fn {builders, size} -> {Enum.map(builders, &build/1), size} end)
    {%{batch | stack: []}, tensors}
  end

  @doc false
  def __from_materialized__(%Nx.Batch{} = batch, tensors) do
    stack = Enum.map(tensors, fn {leaves, size} -> {Enum.map(leaves, &fn -> &1 end), size} end)

    %{batch | stack: stack}
  end

  @doc false
  # The joined (and padded) leaves of the batch, in traversal order.
  def __join__(%Nx.Batch{stack: []}) do
    raise ArgumentError, "cannot give an Nx.Batch without entries to a defn function"
  end

  def __join__(%Nx.Batch{stack: stack, pad: pad}) do
    stack
    |> Enum.reverse()
    |> Enum.map(&elem(&1, 0))
    |> Enum.zip_with(fn builders ->
      fn -> builders |> join() |> pad_rows(pad) end
    end)
  end

  defp join([builder]), do: build(builder)

  defp join(builders) do
    if Enum.all?(builders, &match?({:stack, _}, &1)) do
      builders |> Enum.map(fn {:stack, fun} -> fun.() end) |> Nx.stack()
    else
      builders |> Enum.map(&build/1) |> Nx.concatenate()
    end
  end

  defp pad_rows(tensor, 0), do: tensor

  defp pad_rows(tensor, pad) do
    config = [{0, pad, 0} | List.duplicate({0, 0, 0}, Nx.rank(tensor) - 1)]
    Nx.pad(tensor, Nx.tensor(0, type: Nx.type(tensor)), config)
  end
end

defimpl Nx.LazyContainer, for: Nx.Batch do
  def traverse(%Nx.Batch{template: template, size: size, pad: pad} = batch, acc, fun) do
    rows = size + pad
    builders = Nx.Batch.__join__(batch)

    {result, {acc, []}} =
      Nx.Defn.Composite.traverse(template, {acc, builders}, fn leaf, {acc, [builder | rest]} ->
        %Nx.Tensor{shape: shape, names: names} = leaf
        leaf = %{leaf | shape: Tuple.insert_at(shape, 0, rows), names: [nil | names]}
        {leaf, acc} = fun.(leaf, builder, acc)
        {leaf, {acc, rest}}
      end)

    {result, acc}
  end
end
