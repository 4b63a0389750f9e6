defmodule Nx.VectorizeTest do
  use ExUnit.Case, async: true

  defmodule Defns do
    import Nx.Defn

    defn combine(a, b) do
      c = a * b + 1
      {Nx.sum(c, axes: [0]), stop_grad(c[0][1..2])}
    end

    defn identity(a), do: a

    defn grid(a), do: Nx.reshape(Nx.outer(a, a), {:auto})

    defn count_up(x, step) do
      while {x, step, i = 0}, Nx.sum(x) < 10 do
        {x + step, step, i + 1}
      end
    end

    defn branches(a, b) do
      cond do
        Nx.sum(a) > 10 -> {a * 2 + b, b}
        Nx.sum(a) > 3 -> {b - a, b + 1}
        true -> {a, 0}
      end
    end
  end

  # Every vectorized result is checked against a loop over the vector entries: the
  # operation applied to each combination of entries of the (non-vectorized) inputs, the
  # results stacked under the merged vectorized axes.

  defp merged_axes(inputs) do
    Enum.reduce(inputs, [], fn
      %Nx.Tensor{vectorized_axes: axes}, acc ->
        Enum.reduce(axes, acc, fn {name, size}, acc ->
          case List.keyfind(acc, name, 0) do
            nil -> acc ++ [{name, size}]
            {_, other} -> List.keyreplace(acc, name, 0, {name, max(size, other)})
          end
        end)

      _, acc ->
        acc
    end)
  end

  defp entry(%Nx.Tensor{vectorized_axes: [_ | _] = axes} = t, index) do
    position = Enum.map(axes, fn {name, size} -> if size == 1, do: 0, else: index[name] end)
    Nx.devectorize(t, keep_names: false)[position]
  end

  defp entry(other, _index), do: other

  defp combinations([]), do: [%{}]

  defp combinations([{name, size} | rest]) do
    for i <- 0..(size - 1), tail <- combinations(rest), do: Map.put(tail, name, i)
  end

  # The expected result as a non-vectorized tensor (or tuple) with the vectorized axes leading.
  defp loop(inputs, fun) do
    axes = merged_axes(inputs)
    results = for index <- combinations(axes), do: fun.(Enum.map(inputs, &entry(&1, index)))
    stack_results(results, Keyword.values(axes))
  end

  defp stack_results([first | _] = results, sizes) when is_tuple(first) do
    for i <- 0..(tuple_size(first) - 1) do
      results |> Enum.map(&elem(&1, i)) |> stack_results(sizes)
    end
    |> List.to_tuple()
  end

  defp stack_results([first | _] = results, sizes) do
    results |> Nx.stack() |> Nx.reshape(List.to_tuple(sizes ++ Tuple.to_list(first.shape)))
  end

  defp assert_same(actual, expected, axes) when is_tuple(actual) do
    for {a, e} <- Enum.zip(Tuple.to_list(actual), Tuple.to_list(expected)) do
      assert_same(a, e, axes)
    end
  end

  defp assert_same(actual, expected, axes) do
    assert actual.vectorized_axes == axes
    devectorized = Nx.devectorize(actual, keep_names: false)
    assert devectorized.shape == expected.shape
    assert devectorized.type == expected.type

    if Nx.Type.float?(expected.type) or Nx.Type.complex?(expected.type) do
      assert Nx.all_close(devectorized, expected, atol: 1.0e-5, rtol: 1.0e-4, equal_nan: true)
             |> Nx.to_number() ==
               1,
             "#{inspect(devectorized)} != #{inspect(expected)}"
    else
      assert Nx.to_flat_list(devectorized) == Nx.to_flat_list(expected)
    end
  end

  # Checks `fun` on vectorized `inputs` against the loop over their entries.
  defp check(inputs, fun) do
    actual = fun.(inputs)
    assert_same(actual, loop(inputs, fun), merged_axes(inputs))
    actual
  end

  defp vec(tensor, axes), do: Nx.vectorize(tensor, axes)

  defp f(shape), do: shape |> Nx.iota(type: :f32) |> Nx.divide(7) |> Nx.sin()

  describe "vectorize/devectorize" do
    test "round trip keeps data, names and types" do
      t = Nx.iota({2, 3, 4}, names: [:a, :b, :c])
      v = Nx.vectorize(t, [:a, b: 3])
      assert v.shape == {4}
      assert v.names == [:c]
      assert v.vectorized_axes == [a: 2, b: 3]
      assert Nx.devectorize(v) == t
      assert Nx.devectorize(v, keep_names: false).names == [nil, nil, :c]
      assert Nx.vectorize(t, []) == t
    end

    test "containers" do
      {a, %{b: b}} = Nx.vectorize({Nx.iota({2}), %{b: Nx.iota({2, 2})}}, :x)
      assert a.vectorized_axes == [x: 2]
      assert b.vectorized_axes == [x: 2]
      {a, _} = Nx.devectorize({a, b})
      assert a.shape == {2}
    end

    test "errors" do
      assert_raise ArgumentError, "cannot vectorize tensor of rank 0", fn ->
        Nx.vectorize(Nx.tensor(1), :x)
      end

      assert_raise ArgumentError,
                   "expected vectorized axis specification to be an atom or a tuple of {atom, pos_integer}, got: \"y\"",
                   fn -> Nx.vectorize(Nx.iota({1, 1}), [:x, "y"]) end

      v = Nx.vectorize(Nx.iota({2, 2}), :x)

      assert_raise ArgumentError,
                   "cannot use name :x for new vectorized axes because there's already a vectorized axis with the same name",
                   fn -> Nx.vectorize(v, :x) end
    end

    test "to_number, to_list, to_binary" do
      v = Nx.vectorize(Nx.tensor([1, 2, 3]), :x)

      assert_raise ArgumentError,
                   "cannot convert vectorized tensor with axes [x: 3] and shape {} to number",
                   fn -> Nx.to_number(v) end

      assert Nx.to_list(v) == [1, 2, 3]
      assert Nx.to_flat_list(v, limit: 2) == [1, 2]
      assert Nx.to_binary(v) == <<1::32-native, 2::32-native, 3::32-native>>
      assert Nx.byte_size(v) == 12
    end

    test "revectorize" do
      t = Nx.iota({2, 3, 4}) |> Nx.vectorize(x: 2, y: 3)
      r = Nx.revectorize(t, [z: :auto], target_shape: {2, 2})
      assert r.vectorized_axes == [z: 6]
      assert r.shape == {2, 2}
      assert Nx.to_flat_list(r) == Nx.to_flat_list(t)
    end

    test "reshape_vectors and broadcast_vectors" do
      x = vec(Nx.tensor([1, 2]), :x)
      yx = vec(Nx.iota({3, 2}), [:y, :x])
      [a, b] = Nx.reshape_vectors([x, yx])
      assert a.vectorized_axes == [x: 2, y: 1]
      # the axes of yx are reordered by name, not reshaped
      assert b.vectorized_axes == [x: 2, y: 3]
      assert Nx.to_list(b) == [[0, 2, 4], [1, 3, 5]]

      [a, b] = Nx.broadcast_vectors([x, yx], align_ranks: true)
      assert a.vectorized_axes == [x: 2, y: 3]
      assert Nx.to_list(a) == [[1, 1, 1], [2, 2, 2]]
      assert b.shape == {}

      [one, two] = Nx.broadcast_vectors([1, Nx.tensor([2])])
      assert one.vectorized_axes == [] and two.shape == {1}

      assert_raise ArgumentError, ~r/expected vectorized axis :x to have the same size/, fn ->
        Nx.broadcast_vectors([x, vec(Nx.iota({3}), :x)])
      end
    end
  end

  describe "element-wise" do
    test "binary ops broadcast vectorized axes by name" do
      x = vec(Nx.iota({2, 3}), :x)
      y = vec(Nx.iota({4, 1}, type: :f32), :y)
      xy = vec(Nx.iota({2, 4, 3}), [:x, :y])
      plain = Nx.tensor([10, 20, 30])

      for op <- [:add, :subtract, :multiply, :max, :min, :equal, :less, :divide, :atan2] do
        check([x, y], fn [a, b] -> apply(Nx, op, [a, b]) end)
        check([x, plain], fn [a, b] -> apply(Nx, op, [a, b]) end)
        check([plain, xy], fn [a, b] -> apply(Nx, op, [a, b]) end)
        check([xy, y], fn [a, b] -> apply(Nx, op, [a, b]) end)
      end

      check([x, 2], fn [a, b] -> Nx.pow(a, b) end)
      check([x, y], fn [a, b] -> Nx.logical_and(a, b) end)
      check([x, xy], fn [a, b] -> Nx.bitwise_xor(a, b) end)
      check([x, xy], fn [a, b] -> Nx.quotient(b, Nx.add(a, 1)) end)
      # number operands keep the tensor's type
      assert Nx.add(vec(Nx.tensor([1, 2], type: :u8), :x), 1).type == {:u, 8}
    end

    test "inner shapes of different ranks broadcast from the end" do
      x = vec(Nx.iota({2, 1, 3}), :x)
      y = vec(Nx.iota({3, 2, 1}), :y)
      check([x, y], fn [a, b] -> Nx.add(a, b) end)
      check([x, Nx.iota({4, 1, 1})], fn [a, b] -> Nx.multiply(a, b) end)
    end

    test "unary ops" do
      x = vec(f({3, 2, 2}), :x)

      for op <- [:exp, :sin, :abs, :negate, :sigmoid, :is_nan, :floor, :sqrt, :logical_not] do
        check([x], fn [a] -> apply(Nx, op, [a]) end)
      end

      check([vec(Nx.iota({2, 3}), :x)], fn [a] -> Nx.bitwise_not(a) end)
      check([x], fn [a] -> Nx.as_type(a, :s8) end)
      check([x], fn [a] -> Nx.bitcast(a, :u32) end)
      check([x], fn [a] -> Nx.log(Nx.add(Nx.abs(a), 1), 2) end)
    end

    test "name mismatches and size mismatches" do
      assert_raise ArgumentError,
                   "expected vectorized axis :x to have the same size in both tensors or to one of them to have size 1, got 3 and 2",
                   fn -> Nx.add(vec(Nx.iota({2}), :x), vec(Nx.iota({3}), :x)) end

      assert_raise ArgumentError, ~r/cannot broadcast/, fn ->
        Nx.add(vec(Nx.iota({2, 3}), :x), Nx.iota({2}))
      end

      # size 1 broadcasts
      check([vec(Nx.iota({1, 2}), :x), vec(Nx.iota({3, 2}), :x)], fn [a, b] -> Nx.add(a, b) end)
    end

    test "select and clip" do
      pred = vec(Nx.tensor([[1, 0, 1], [0, 0, 1]]), :x)
      on_true = vec(Nx.iota({4, 3}), :y)
      check([pred, on_true, Nx.tensor(-1.0)], fn [p, t, f] -> Nx.select(p, t, f) end)

      check([vec(Nx.tensor([1, 0]), :x), Nx.iota({3}), on_true], fn [p, t, f] ->
        Nx.select(p, t, f)
      end)

      check([Nx.tensor(0), on_true, Nx.tensor([7, 8, 9])], fn [p, t, f] -> Nx.select(p, t, f) end)

      x = vec(Nx.iota({2, 5}), :x)
      check([x], fn [a] -> Nx.clip(a, 2, 6) end)
      lo = vec(Nx.tensor([0, 1, 2]), :lo)
      check([x, lo, Nx.tensor(7.5)], fn [a, l, h] -> Nx.clip(a, l, h) end)
    end
  end

  describe "aggregates" do
    test "axes refer to inner axes" do
      x = vec(Nx.iota({2, 3, 4}, names: [nil, :rows, :cols]), :x)

      for op <- [:sum, :product, :reduce_max, :reduce_min, :all, :any, :mean] do
        check([x], fn [a] -> apply(Nx, op, [a]) end)
        check([x], fn [a] -> apply(Nx, op, [a, [axes: [:cols]]]) end)
        check([x], fn [a] -> apply(Nx, op, [a, [axes: [0], keep_axes: true]]) end)
      end

      assert Nx.sum(x, axes: [:cols]).names == [:rows]

      for op <- [:argmax, :argmin] do
        check([x], fn [a] -> apply(Nx, op, [a]) end)
        check([x], fn [a] -> apply(Nx, op, [a, [axis: 1, keep_axis: true]]) end)
        check([x], fn [a] -> apply(Nx, op, [a, [axis: :rows, tie_break: :high]]) end)
      end

      y = vec(f({2, 3, 4}), :y)
      check([y], fn [a] -> Nx.logsumexp(a, axes: [1]) end)
      check([y], fn [a] -> Nx.variance(a, axes: [0]) end)
      check([y], fn [a] -> Nx.standard_deviation(a) end)
      check([y], fn [a] -> Nx.reduce(a, 0.0, [axes: [1]], &Nx.add/2) end)
      check([y, vec(Nx.tensor([1.0, 2.0, 3.0]), :w)], fn [a, w] -> Nx.reduce(a, w, &Nx.add/2) end)
      check([y], fn [a] -> Nx.median(a, axis: 1) end)
      check([vec(Nx.tensor([[1, 2, 2, 3], [4, 4, 1, 1]]), :m)], fn [a] -> Nx.mode(a) end)
      check([y], fn [a] -> Nx.covariance(a) end)
      check([y, vec(f({4}), :z)], fn [a, b] -> Nx.phase(Nx.complex(a, b)) end)

      check([y, Nx.tensor([1.0, 2.0, 3.0, 4.0])], fn [a, w] ->
        Nx.weighted_mean(a, w, axes: [1])
      end)

      assert_raise ArgumentError, ~r/given axis \(2\) invalid for shape with rank 2/, fn ->
        Nx.sum(x, axes: [2])
      end
    end

    test "cumulative, sort, argsort, top_k" do
      x = vec(f({2, 3, 4}), :x)

      for op <- [:cumulative_sum, :cumulative_product, :cumulative_max, :cumulative_min] do
        check([x], fn [a] -> apply(Nx, op, [a, [axis: 1, reverse: true]]) end)
      end

      check([x], fn [a] -> Nx.sort(a, axis: 1, direction: :desc) end)
      check([x], fn [a] -> Nx.argsort(a, stable: true) end)
      check([x], fn [a] -> Nx.top_k(a, k: 2) end)
    end
  end

  describe "contractions" do
    test "dot" do
      x = vec(f({2, 3, 4}), :x)
      y = vec(f({3, 4, 2}), :y)
      xy = vec(f({2, 3, 4, 2}), [:x, :y])
      check([x, y], fn [a, b] -> Nx.dot(a, b) end)
      check([x, f({4})], fn [a, b] -> Nx.dot(a, b) end)
      check([f({5, 3}), x], fn [a, b] -> Nx.dot(a, b) end)
      check([x, vec(f({2, 3, 5}), :x)], fn [a, b] -> Nx.dot(a, [0], b, [0]) end)
      check([x, xy], fn [a, b] -> Nx.dot(a, [1], b, [0]) end)

      check([vec(f({2, 5, 3, 4}), :x), vec(f({2, 5, 4, 2}), :x)], fn [a, b] ->
        Nx.dot(a, [2], [0], b, [1], [0])
      end)

      check([x, 2.0], fn [a, b] -> Nx.dot(a, b) end)
      check([vec(f({2, 3}), :x), vec(f({3, 2}), :y)], fn [a, b] -> Nx.outer(a, b) end)
    end
  end

  describe "shape" do
    test "shape functions act on the inner shape" do
      x = vec(Nx.iota({2, 3, 4}, names: [nil, :a, :b]), :x)
      check([x], fn [t] -> Nx.reshape(t, {4, 3}, names: [:c, :d]) end)
      check([x], fn [t] -> Nx.reshape(t, {:auto}) end)
      check([x], fn [t] -> Nx.transpose(t) end)
      check([x], fn [t] -> Nx.transpose(t, axes: [:b, :a]) end)
      check([x], fn [t] -> Nx.new_axis(t, 1, :n) end)
      check([x], fn [t] -> Nx.new_axis(t, -1) end)
      check([x], fn [t] -> Nx.flatten(t) end)
      check([x], fn [t] -> Nx.broadcast(t, {2, 3, 4}) end)
      check([x], fn [t] -> Nx.broadcast(t, {3, 5, 4}, axes: [0, 2]) end)
      check([x], fn [t] -> t |> Nx.new_axis(0) |> Nx.squeeze() end)
      check([x], fn [t] -> Nx.tile(t, [2, 1]) end)
      check([x], fn [t] -> Nx.pad(t, 0, [{1, 0, 1}, {0, -1, 0}]) end)
      check([x], fn [t] -> Nx.reverse(t, axes: [:b]) end)
      check([x], fn [t] -> Nx.tril(t) end)
      check([x], fn [t] -> Nx.take_diagonal(t) end)
      check([vec(Nx.iota({2, 3}), :x)], fn [t] -> Nx.make_diagonal(t) end)
      check([x], fn [t] -> Nx.diff(t) end)
      check([vec(Nx.tensor([1.0, 2.0]), :x)], fn [t] -> Nx.linspace(t, 10.0, n: 4) end)
      assert Nx.reshape(x, {12}).names == [nil]

      assert_raise ArgumentError,
                   "cannot reshape, current shape {3, 4} is not compatible with new shape {5}",
                   fn -> Nx.reshape(x, {5}) end
    end

    test "concatenate and stack" do
      x = vec(Nx.iota({2, 3}), :x)
      y = vec(Nx.iota({4, 2}), :y)
      check([x, y], fn [a, b] -> Nx.concatenate([a, b]) end)
      check([x, Nx.tensor([7, 8])], fn [a, b] -> Nx.concatenate([a, b], axis: -1) end)
      check([x, Nx.tensor([7, 8, 9])], fn [a, b] -> Nx.stack([a, b]) end)
      check([x, vec(Nx.iota({2, 3}), :x)], fn [a, b] -> Nx.stack([a, b], axis: 1, name: :s) end)
      check([x], fn [a] -> Nx.split(a, 1) end)
    end
  end

  describe "indexing" do
    test "slice and access" do
      x = vec(Nx.iota({2, 4, 5}), :x)
      check([x], fn [t] -> Nx.slice(t, [1, 1], [2, 3], strides: [1, 2]) end)
      check([x], fn [t] -> t[1][2..4] end)
      check([x], fn [t] -> Nx.slice_along_axis(t, 1, 2, axis: 1) end)

      starts = vec(Nx.tensor([0, 3, 1]), :s)
      check([x, starts], fn [t, s] -> Nx.slice(t, [s, 1], [1, 3]) end)
      check([Nx.iota({6}), starts], fn [t, s] -> Nx.slice(t, [s], [2]) end)

      check([x, starts, vec(Nx.tensor([4, 0]), :x)], fn [t, s, r] ->
        Nx.slice(t, [r, s], [2, 3], strides: [1, 2])
      end)

      check([x, vec(Nx.tensor([3, -1, 1]), :i)], fn [t, i] -> t[[.., i]] end)
      check([Nx.iota({4, 2}), vec(Nx.tensor([3, 0]), :i)], fn [t, i] -> t[i] end)
    end

    test "put_slice" do
      x = vec(Nx.iota({2, 3, 3}), :x)
      check([x, Nx.tensor([[-1, -2]])], fn [t, s] -> Nx.put_slice(t, [1, 1], s) end)

      check([x, vec(Nx.tensor([[[-1]], [[-2]], [[-3]]]), :y)], fn [t, s] ->
        Nx.put_slice(t, [2, 0], s)
      end)

      check([x, vec(Nx.tensor([0, 2]), :s), vec(Nx.tensor([[[7]], [[8]]]), :x)], fn [t, s, u] ->
        Nx.put_slice(t, [s, s], u)
      end)

      check([Nx.iota({4}), vec(Nx.tensor([0, 2, 9]), :s)], fn [t, s] ->
        Nx.put_slice(t, [s], Nx.tensor([-1, -1]))
      end)
    end

    test "take, gather, take_along_axis" do
      x = vec(Nx.iota({2, 3, 4}), :x)
      i = vec(Nx.tensor([[2, 0], [1, 1], [0, 3]]), :i)
      check([x, Nx.tensor([2, 0, 2])], fn [t, idx] -> Nx.take(t, idx, axis: 1) end)
      check([x, i], fn [t, idx] -> Nx.take(t, idx) end)
      check([x, i], fn [t, idx] -> Nx.take(t, idx, axis: 1) end)
      check([Nx.iota({3, 4}), i], fn [t, idx] -> Nx.take(t, idx, axis: 1) end)

      check([x, vec(Nx.tensor([[1, 0], [2, 3]]), :x)], fn [t, idx] -> Nx.take(t, idx, axis: 1) end)

      g = vec(Nx.tensor([[[0, 1], [2, 3]], [[1, 0], [0, 0]]]), :g)
      check([x, g], fn [t, idx] -> Nx.gather(t, idx) end)
      check([x, Nx.tensor([[1], [0]])], fn [t, idx] -> Nx.gather(t, idx, axes: [1]) end)

      check([x, vec(Nx.tensor([[[0, 1, 2, 3]], [[3, 2, 1, 0]]]), :x)], fn [t, idx] ->
        Nx.take_along_axis(t, idx, axis: 0)
      end)

      check([Nx.iota({3, 4}), vec(Nx.tensor([[[0], [1], [2]], [[3], [3], [3]]]), :y)], fn [t, idx] ->
        Nx.take_along_axis(t, idx, axis: 1)
      end)
    end

    test "indexed_add and indexed_put" do
      x = vec(Nx.iota({2, 3, 4}), :x)
      indices = vec(Nx.tensor([[[0, 1], [2, 3]], [[1, 1], [1, 1]]]), :i)
      updates = Nx.tensor([10, 20])
      check([x, indices, updates], fn [t, i, u] -> Nx.indexed_add(t, i, u) end)
      check([x, indices, updates], fn [t, i, u] -> Nx.indexed_put(t, i, u) end)

      check([x, Nx.tensor([[1], [0]]), vec(Nx.tensor([[[1, 1, 1, 1], [2, 2, 2, 2]]]), :u)], fn [
                                                                                                 t,
                                                                                                 i,
                                                                                                 u
                                                                                               ] ->
        Nx.indexed_add(t, i, u, axes: [0])
      end)

      check([x, Nx.tensor([2, 1]), vec(Nx.tensor([5, 6, 7]), :u)], fn [t, i, u] ->
        Nx.indexed_put(t, i, u)
      end)

      check([x, Nx.tensor(-5)], fn [t, d] ->
        Nx.put_diagonal(Nx.slice(t, [0, 0], [3, 3]), Nx.broadcast(d, {3}))
      end)
    end
  end

  describe "convolution, windows and fft" do
    test "conv" do
      input = vec(f({2, 1, 2, 5, 5}), :x)
      kernel = f({3, 2, 2, 2})
      check([input, kernel], fn [t, k] -> Nx.conv(t, k) end)
      check([input, kernel], fn [t, k] -> Nx.conv(t, k, strides: 2, padding: :same) end)

      check([input, kernel], fn [t, k] ->
        Nx.conv(t, k, batch_group_size: 1, input_permutation: [0, 1, 3, 2])
      end)

      check([input, vec(f({2, 3, 2, 2, 2}), :k)], fn [t, k] ->
        Nx.conv(t, k, kernel_dilation: [1, 2])
      end)

      check([f({1, 2, 4, 4}), vec(f({2, 2, 1, 1, 1}), :k)], fn [t, k] ->
        Nx.conv(t, k, feature_group_size: 2)
      end)
    end

    test "window functions" do
      x = vec(f({2, 4, 5}), :x)

      for op <- [:window_sum, :window_max, :window_min, :window_product, :window_mean] do
        check([x], fn [t] -> apply(Nx, op, [t, {2, 2}]) end)

        check([x], fn [t] ->
          apply(Nx, op, [t, {2, 3}, [strides: [2, 1], padding: :same, window_dilations: [1, 2]]])
        end)
      end

      check([x], fn [t] ->
        Nx.window_reduce(t, 0.0, {2, 2}, [padding: [{1, 0}, {0, 1}]], &Nx.add/2)
      end)

      check([x, vec(Nx.tensor([1.0, -1.0]), :acc)], fn [t, acc] ->
        Nx.window_reduce(t, acc, {1, 2}, &Nx.max/2)
      end)

      source = vec(f({3, 2, 2}), :s)

      check([x, source], fn [t, s] ->
        Nx.window_scatter_max(t, s, 0.0, {2, 2}, strides: [2, 2])
      end)

      check([Nx.iota({4, 5}, type: :f32), source, vec(Nx.tensor([0.0, 1.0]), :i)], fn [t, s, i] ->
        Nx.window_scatter_min(t, s, i, {2, 2}, strides: [2, 2])
      end)
    end

    test "fft" do
      x = vec(f({2, 3, 4}), :x)
      check([x], fn [t] -> Nx.fft(t) end)
      check([x], fn [t] -> Nx.ifft(t, axis: 0, length: 4) end)
      check([x], fn [t] -> Nx.fft2(t) end)
      check([x], fn [t] -> Nx.ifft2(t, lengths: [2, 2]) end)
      check([x], fn [t] -> Nx.rfft(t) end)
      check([x], fn [t] -> t |> Nx.rfft(axis: 0) |> Nx.irfft(axis: 0, length: 3) end)
    end
  end

  describe "creation and backends" do
    test "iota and eye with :vectorized_axes" do
      t = Nx.iota({2, 2}, axis: 1, vectorized_axes: [a: 2, b: 1])
      assert t.vectorized_axes == [a: 2, b: 1]
      assert Nx.to_list(t) == [[[[0, 1], [0, 1]]], [[[0, 1], [0, 1]]]]
      e = Nx.eye(2, vectorized_axes: [a: 3])
      assert e.vectorized_axes == [a: 3] and e.shape == {2, 2}
      assert Nx.to_list(e) == List.duplicate([[1, 0], [0, 1]], 3)
    end

    test "fill, backend_copy and backend_transfer keep vectorized axes" do
      x = vec(Nx.iota({2, 3}), :x)
      check([x], fn [t] -> Nx.fill(t, 7) end)
      assert Nx.to_list(Nx.backend_copy(x, Nx.Torch.Backend)) == Nx.to_list(x)
      assert Nx.backend_copy(x, Nx.Torch.Backend).vectorized_axes == [x: 2]
      assert Nx.backend_transfer(x, Nx.Torch.Backend).vectorized_axes == [x: 2]
    end
  end

  describe "Nx.LinAlg" do
    defp spd(n, count) do
      a = Nx.add(f({count, n, n}), Nx.multiply(Nx.eye(n), 3))
      Nx.dot(a, [2], [0], a, [2], [0])
    end

    test "batched over vectorized axes" do
      a = vec(spd(3, 2), :x)

      for fun <- [
            &Nx.LinAlg.cholesky/1,
            &Nx.LinAlg.invert/1,
            &Nx.LinAlg.determinant/1,
            &Nx.LinAlg.qr/1,
            &Nx.LinAlg.lu/1,
            &Nx.LinAlg.pinv/1,
            &Nx.LinAlg.adjoint/1,
            &Nx.LinAlg.matrix_power(&1, 3),
            &Nx.LinAlg.matrix_power(&1, -1),
            &Nx.LinAlg.matrix_rank/1,
            &Nx.LinAlg.norm/1,
            &Nx.LinAlg.norm(&1, ord: 1),
            &(&1 |> Nx.LinAlg.eigh() |> elem(0)),
            &(&1 |> Nx.LinAlg.svd() |> elem(1))
          ] do
        check([a], fn [t] -> fun.(t) end)
      end

      check([vec(f({2, 4}), :x)], fn [t] -> Nx.LinAlg.norm(t, ord: 2) end)
    end

    test "systems with vectorized matrices or right-hand sides" do
      a = vec(spd(3, 2), :x)
      b = vec(f({4, 3}), :b)
      check([a, b], fn [m, v] -> Nx.LinAlg.solve(m, v) end)
      check([a, f({3, 2})], fn [m, v] -> Nx.LinAlg.solve(m, v) end)
      check([spd(3, 1)[0], b], fn [m, v] -> Nx.LinAlg.solve(m, v) end)
      l = Nx.LinAlg.cholesky(a)
      check([l, b], fn [m, v] -> Nx.LinAlg.triangular_solve(m, v) end)

      check([l, f({2, 3})], fn [m, v] ->
        Nx.LinAlg.triangular_solve(m, v, left_side: false, lower: true)
      end)

      check([vec(f({2, 4, 3}), :x), b], fn [m, v] ->
        Nx.LinAlg.least_squares(Nx.slice(m, [0, 0], [3, 3]), v)
      end)
    end
  end

  describe "defn" do
    test "vectorized parameters and results" do
      x = vec(Nx.iota({2, 3, 4}), :x)
      y = vec(Nx.iota({5, 4}), :y)
      check([x, y], fn [a, b] -> Defns.combine(a, b) end)
      check([x, Nx.iota({4})], fn [a, b] -> Defns.combine(a, b) end)
      check([x], fn [a] -> Defns.identity(a) end)
      check([vec(Nx.iota({2, 3}), :x)], fn [a] -> Defns.grid(a) end)
      assert Nx.Defn.jit(&Nx.add/2).(x, y).vectorized_axes == [x: 2, y: 5]
    end

    test "cond picks the branch of each entry" do
      x = vec(Nx.tensor([[0, 1], [1, 3], [5, 7]]), :x)
      check([x, Nx.tensor(5)], fn [a, b] -> Defns.branches(a, b) end)
      check([x, vec(Nx.tensor([10, 20]), :y)], fn [a, b] -> Defns.branches(a, b) end)

      check([Nx.tensor([4, 4]), vec(Nx.tensor([10, 20]), :y)], fn [a, b] ->
        Defns.branches(a, b)
      end)
    end

    test "while loops run each entry until its condition fails" do
      x = vec(Nx.tensor([[1, 2], [3, 4], [6, 6]]), :x)
      check([x, 1], fn [a, s] -> Defns.count_up(a, s) end)
      check([x, vec(Nx.tensor([1, 3]), :s)], fn [a, s] -> Defns.count_up(a, s) end)
    end

    test "gradients are taken entry by entry" do
      x = vec(f({2, 3}), :x)
      w = f({3})
      loss = fn x, w -> Nx.sum(Nx.multiply(Nx.sin(Nx.multiply(x, w)), w)) end

      check([x], fn [a] -> Nx.Defn.grad(a, &loss.(&1, w)) end)
      check([x, w], fn [a, b] -> Nx.Defn.grad(b, &loss.(a, &1)) end)

      check([x, vec(f({4, 3}), :y)], fn [a, b] ->
        Nx.Defn.value_and_grad({a, b}, fn {a, b} -> Nx.dot(a, b) end)
      end)
    end

    test "Nx.Random with vectorized keys" do
      if Code.ensure_loaded?(Nx.Random) do
        keys = Nx.Random.key(42) |> Nx.Random.split(parts: 3) |> vec(:k)
        check([keys], fn [k] -> Nx.Random.uniform(k, shape: {2, 2}) end)
        check([keys], fn [k] -> Nx.Random.normal(k, 1.0, 2.0) end)
        check([keys], fn [k] -> Nx.Random.split(k) end)

        check([vec(Nx.tensor([0, 10]), :lo), keys], fn [lo, k] ->
          k |> Nx.Random.randint(lo, 20) |> elem(0)
        end)
      end
    end
  end

  describe "errors" do
    test "report the inner shapes" do
      x = vec(Nx.iota({2, 3}), :x)

      assert_raise ArgumentError,
                   ~r/cannot broadcast tensor of dimensions \{3\} to \{2, 2\}/,
                   fn ->
                     Nx.broadcast(x, {2, 2})
                   end

      assert_raise ArgumentError, ~r/expected all shapes to match/, fn ->
        Nx.concatenate([x, Nx.iota({2, 2})])
      end

      assert_raise ArgumentError, "padding value must be a scalar and non-vectorized", fn ->
        Nx.pad(x, vec(Nx.tensor([0, 1]), :x), [{1, 1, 0}])
      end

      assert_raise ArgumentError,
                   "to_pointer does not support vectorized tensors, devectorize first",
                   fn -> Nx.to_pointer(x) end
    end
  end

  describe "inspect" do
    test "vectorized results print their vectorized axes" do
      result = Nx.sum(vec(Nx.iota({2, 3}), :rows), axes: [0])

      assert inspect(result) == """
             #Nx.Tensor<
               vectorized[rows: 2]
               s32
               [3, 12]
             >\
             """
    end
  end
end
