defmodule Nx.Torch.LazyTest do
  # Deferred element-wise work of eager operations (Nx.Torch, "Deferred element-wise work"):
  # every result is checked against the same function compiled with `fuse: false`, whose
  # operations are LibTorch's kernels (never deferred, never the engine's fused kernels):
  # arithmetic exactly, exp/tanh/sigmoid within the fused kernels' stated error, sums in
  # another order within f32 rounding.
  use ExUnit.Case, async: true

  import Nx.Testing

  @rows 256
  @cols 512

  import Nx.SpreadValues, only: [values: 2]

  # the values of a (possibly deferred) tensor
  defp reference(tensor), do: Nx.Torch.sync(tensor)

  # `fun` applied to `args` by LibTorch's own kernels
  defp libtorch(fun, args) do
    refute Enum.any?(Nx.Defn.Composite.flatten_list(args), &Nx.Torch.deferred?/1)
    apply(Nx.Defn.jit(fun, compiler: Nx.Torch, fuse: false), args)
  end

  defp softmax(x) do
    max = Nx.reduce_max(x, axes: [-1], keep_axes: true)
    e = Nx.exp(Nx.subtract(x, max))
    Nx.divide(e, Nx.sum(e, axes: [-1], keep_axes: true))
  end

  test "f32 results of f16 and bf16 operands are deferred and read the halves exactly" do
    x = values({@rows, @cols}, 3)

    for type <- [:f16, :bf16] do
      h = Nx.as_type(Nx.divide(x, 8), type)
      f = fn h, x -> Nx.exp(Nx.add(h, x)) |> Nx.multiply(Nx.subtract(x, h)) end
      got = f.(h, x)
      assert Nx.Torch.deferred?(got)
      assert got.type == {:f, 32}
      assert_all_close(reference(got), libtorch(f, [h, x]), rtol: 1.0e-6, atol: 1.0e-6)
    end
  end

  test "large f32 element-wise results are deferred; small, f64 and integer ones are not" do
    x = values({@rows, @cols}, 0)
    assert Nx.Torch.deferred?(Nx.add(x, 1.0))
    assert Nx.Torch.deferred?(Nx.exp(x))
    assert Nx.Torch.deferred?(Nx.sum(x, axes: [1], keep_axes: true))

    refute Nx.Torch.deferred?(Nx.add(Nx.tensor([1.0, 2.0]), 1.0))
    refute Nx.Torch.deferred?(Nx.add(Nx.as_type(x, :f64), 1.0))
    refute Nx.Torch.deferred?(Nx.add(Nx.as_type(x, :s32), 1))
    # not a last-axis reduction, or not an operation the kernels have
    refute Nx.Torch.deferred?(Nx.sum(x, axes: [0]))
    refute Nx.Torch.deferred?(Nx.sum(x))
    refute Nx.Torch.deferred?(Nx.cos(x))
    refute Nx.Torch.deferred?(Nx.Torch.sync(Nx.add(x, 1.0)))
    refute Nx.Torch.deferred?(3.0)
  end

  test "arithmetic with rows, columns, scalars and u8 operands equal LibTorch's" do
    x = values({@rows, @cols}, 0)
    y = values({@rows, @cols}, 1)
    bias = values({@cols}, 2)
    column = values({@rows, 1}, 3)
    bytes = Nx.iota({@rows, @cols}, type: :u8)

    f = fn x, y, bias, column, bytes ->
      x
      |> Nx.multiply(y)
      |> Nx.add(bias)
      |> Nx.subtract(column)
      |> Nx.divide(Nx.add(Nx.abs(y), 0.5))
      |> Nx.max(Nx.negate(column))
      |> Nx.min(3.5)
      |> Nx.add(bytes)
      |> Nx.multiply(-2)
    end

    got = f.(x, y, bias, column, bytes)
    assert Nx.Torch.deferred?(got)

    want = libtorch(f, [x, y, bias, column, bytes])

    assert_equal(reference(got), want)
    assert got.shape == {@rows, @cols} and got.type == {:f, 32}
  end

  test "an eager softmax is one deferred expression with LibTorch's values" do
    x = values({@rows, @cols}, 4)
    got = softmax(x)
    assert Nx.Torch.deferred?(got)
    want = libtorch(&softmax/1, [x])
    assert_all_close(reference(got), want, atol: 1.0e-7, rtol: 1.0e-5)
    sums = Nx.sum(got, axes: [1])
    assert_all_close(sums, Nx.broadcast(1.0, {@rows}), atol: 1.0e-5)
  end

  test "sqrt is correctly rounded" do
    # LibTorch's f32 sqrt of 8.5 is 2.915476083755493, one ulp above the f32 nearest to
    # sqrt(8.5) = 2.91547594742265...: the fused kernels' IEEE square root gives that one
    got = Nx.sqrt(Nx.broadcast(Nx.tensor(8.5, type: :f32), {@rows, @cols}))
    assert Nx.Torch.deferred?(got)
    assert Nx.to_flat_list(got) |> Enum.uniq() == [2.915475845336914]
    assert <<2.915475845336914::float-32-native>> == <<:math.sqrt(8.5)::float-32-native>>
  end

  test "transcendental functions stay within their error" do
    x = values({@rows, @cols}, 5)

    fs = [&Nx.exp/1, &Nx.tanh/1, &Nx.sigmoid/1, &Nx.sqrt(Nx.abs(&1)), &Nx.log(Nx.abs(&1))]

    for f <- fs ++ [&Nx.rsqrt(Nx.add(Nx.abs(&1), 0.25))] do
      got = f.(x)
      assert_all_close(reference(got), libtorch(f, [x]), atol: 1.0e-7, rtol: 2.0e-6)
    end
  end

  test "row reductions: sum, max and min of the last axis, NaN and infinities" do
    x = values({@rows, @cols}, 6)
    x = Nx.put_slice(x, [3, 7], Nx.tensor([[:nan]], type: :f32))
    x = Nx.put_slice(x, [5, 0], Nx.tensor([[:infinity, :neg_infinity]], type: :f32))

    for {op, opts} <- [
          {:reduce_max, [axes: [1], keep_axes: true]},
          {:reduce_min, [axes: [1]]},
          {:sum, [axes: [-1], keep_axes: true]}
        ] do
      got = apply(Nx, op, [x, opts])
      assert Nx.Torch.deferred?(got)
      want = libtorch(&apply(Nx, op, [&1, opts]), [x])
      assert got.shape == want.shape
      assert_all_close(reference(got), want, rtol: 1.0e-5, atol: 1.0e-4)
    end

    assert Nx.to_number(Nx.reduce_max(x, axes: [1])[3]) == :nan
    assert Nx.to_number(Nx.reduce_max(x, axes: [1])[5]) == :infinity
    assert Nx.to_number(Nx.reduce_min(x, axes: [1])[5]) == :neg_infinity
    assert Nx.to_number(Nx.sum(x, axes: [1])[5]) == :nan
  end

  test "row values feed element-wise operations and other row values" do
    x = values({@rows, @cols}, 7)

    f = fn x ->
      m = Nx.reduce_max(x, axes: [1], keep_axes: true)
      s = Nx.sum(x, axes: [1], keep_axes: true)
      # a row operation (result [rows, 1]) and a broadcast of it over the rows
      r = Nx.add(Nx.multiply(m, 2.0), Nx.negate(s))
      {r, Nx.subtract(x, r)}
    end

    {r, d} = f.(x)
    assert Nx.Torch.deferred?(r) and Nx.Torch.deferred?(d)
    {rr, rd} = libtorch(f, [x])
    assert_all_close(reference(d), rd, rtol: 1.0e-5, atol: 1.0e-3)
    assert_all_close(reference(r), rr, rtol: 1.0e-5, atol: 1.0e-3)
  end

  test "shared and long expressions: values reused, budgets exceeded" do
    x = values({@rows, @cols}, 8)
    y = Nx.tanh(x)
    # y is read three times by one expression
    z = y |> Nx.multiply(y) |> Nx.add(y)

    want = libtorch(fn x -> Nx.tanh(x) |> Nx.multiply(Nx.tanh(x)) |> Nx.add(Nx.tanh(x)) end, [x])
    assert_all_close(reference(z), want, rtol: 2.0e-6, atol: 1.0e-6)

    # 60 operations: beyond the 24 of one expression, operands are computed first
    long = Enum.reduce(1..60, x, fn i, acc -> acc |> Nx.multiply(1.01) |> Nx.add(i / 100) end)

    want =
      libtorch(
        fn x ->
          Enum.reduce(1..60, x, fn i, acc -> acc |> Nx.multiply(1.01) |> Nx.add(i / 100) end)
        end,
        [x]
      )

    assert_equal(reference(long), want)

    # more distinct operands than one expression reads
    others = Enum.map(1..10, &values({@rows, @cols}, &1))
    many = Enum.reduce(others, x, &Nx.add(&2, &1))

    want =
      libtorch(fn x, others -> Enum.reduce(Tuple.to_list(others), x, &Nx.add(&2, &1)) end, [
        x,
        List.to_tuple(others)
      ])

    assert_equal(reference(many), want)
  end

  test "expressions estimated to take long compute their operands first" do
    # 4,194,304 elements: one exp fits the time budget of an expression, two do not
    x = values({2048, 2048}, 14)
    inner = Nx.exp(Nx.multiply(x, 0.25))
    assert Nx.Torch.deferred?(inner)
    outer = Nx.exp(Nx.negate(inner))
    refute Nx.Torch.deferred?(inner)
    assert Nx.Torch.deferred?(outer)
    want = libtorch(&Nx.exp(Nx.negate(Nx.exp(Nx.multiply(&1, 0.25)))), [x])
    assert_all_close(reference(outer), want, rtol: 2.0e-6, atol: 1.0e-7)
  end

  test "deferred values are computed by whatever reads them" do
    x = values({@rows, @cols}, 9)
    ref = libtorch(&Nx.exp(Nx.negate(&1)), [x])

    reads = [
      fn t -> Nx.slice(t, [1, 2], [3, 4]) end,
      fn t -> t[[0..1, 5]] end,
      fn t -> Nx.transpose(t) end,
      fn t -> Nx.dot(t, Nx.iota({@cols, 3}, type: :f32)) end,
      fn t -> Nx.Defn.jit(&Nx.multiply(&1, 2), compiler: Nx.Torch).(t) end,
      fn t -> Nx.as_type(t, :f64) end,
      fn t -> Nx.reshape(t, {@cols, @rows}) end
    ]

    for read <- reads do
      t = Nx.exp(Nx.negate(x))
      assert Nx.Torch.deferred?(t)
      assert_all_close(reference(read.(t)), read.(ref), rtol: 2.0e-6)
    end

    t = Nx.exp(Nx.negate(x))
    assert byte_size(Nx.to_binary(t)) == @rows * @cols * 4
    refute Nx.Torch.deferred?(t)
    assert inspect(Nx.exp(Nx.negate(x))) =~ "f32[256][512]"
  end

  test "transposed (strided) operands" do
    x = values({@cols, @rows}, 10) |> Nx.transpose()
    got = Nx.multiply(x, 3.0) |> Nx.add(1.0)
    assert_equal(reference(got), libtorch(&(&1 |> Nx.multiply(3.0) |> Nx.add(1.0)), [x]))
  end

  test "sync/1 over containers, numbers and deallocated tensors" do
    x = values({@rows, @cols}, 13)
    a = Nx.exp(x)
    b = Nx.sum(x, axes: [1], keep_axes: true)
    container = %{a: a, rest: {b, 2.5}}
    assert Nx.Torch.deferred?(a) and Nx.Torch.deferred?(b)
    assert Nx.Torch.sync(container) == container
    refute Nx.Torch.deferred?(a) or Nx.Torch.deferred?(b)
    assert Nx.Torch.sync(1.0) == 1.0

    # a deallocated tensor has nothing to compute; reading it still raises
    gone = Nx.add(x, 1.0)
    assert Nx.backend_deallocate(gone) == :ok
    refute Nx.Torch.deferred?(gone)
    assert Nx.Torch.sync(gone) == gone
    assert_raise ArgumentError, ~r/deallocated/, fn -> Nx.to_binary(gone) end
  end

  test "deallocating deferred values, and many processes reading one tensor" do
    x = values({@rows, @cols}, 11)
    t = Nx.add(x, 2.0)
    assert Nx.backend_deallocate(t) == :ok
    assert Nx.backend_deallocate(t) == :already_deallocated
    assert_raise ArgumentError, ~r/deallocated/, fn -> Nx.to_binary(t) end

    shared = softmax(x)

    results =
      1..8
      |> Task.async_stream(fn _ -> reference(shared) end, max_concurrency: 8)
      |> Enum.map(fn {:ok, values} -> values end)

    # one computation, seen by every reader
    for r <- results, do: assert_equal(r, hd(results))
    assert_all_close(hd(results), libtorch(&softmax/1, [x]), atol: 1.0e-7, rtol: 1.0e-5)

    # the inputs of an expression live as long as it does
    t = Nx.add(values({@rows, @cols}, 12), 1.0)
    :erlang.garbage_collect()
    assert_equal(reference(t), libtorch(&Nx.add(&1, 1.0), [values({@rows, @cols}, 12)]))
  end
end
