defmodule Nx.FFTTest do
  use ExUnit.Case, async: true

  doctest Nx, only: [fft: 2, ifft: 2, fft2: 2, ifft2: 2, rfft: 2, irfft: 2]

  # Golden values from test/fixtures/gen_linalg_fft.py (NumPy's pocketfft in complex128).
  @fixtures "test/fixtures/linalg_fft.exs"
            |> Code.eval_file()
            |> elem(0)
            |> Enum.filter(&(&1.op in [:fft, :ifft, :fft2, :ifft2, :rfft, :irfft]))

  defp from_fixture({shape, values}) do
    type = if Enum.any?(values, &is_tuple/1), do: :c128, else: :f64

    values
    |> Enum.map(fn
      {re, im} -> Complex.new(re, im)
      v -> v
    end)
    |> Nx.tensor(type: type)
    |> Nx.reshape(shape)
  end

  defp assert_close(left, right, tol \\ 1.0e-9) do
    assert Nx.shape(left) == Nx.shape(right)
    right = Nx.as_type(right, Nx.type(left))

    assert Nx.to_number(Nx.all_close(left, right, atol: tol, rtol: tol)) == 1,
           "expected\n#{inspect(left)}\nto be close to\n#{inspect(right)}"
  end

  test "golden values from NumPy, in f64" do
    ops = @fixtures |> Enum.map(& &1.op) |> Enum.uniq() |> Enum.sort()
    assert ops == [:fft, :fft2, :ifft, :ifft2, :irfft, :rfft]

    for %{op: op, args: [x], opts: opts, expected: expected} <- @fixtures do
      result = apply(Nx, op, [from_fixture(x), opts])
      assert Nx.type(result) in [{:c, 128}, {:f, 64}]
      assert_close(result, from_fixture(expected))
    end
  end

  test "the same values in single precision" do
    for %{op: op, args: [x], opts: opts, expected: expected} <- @fixtures do
      x = from_fixture(x)
      x = Nx.as_type(x, if(Nx.Type.complex?(Nx.type(x)), do: :c64, else: :f32))
      result = apply(Nx, op, [x, opts])
      assert Nx.type(result) in [{:c, 64}, {:f, 32}]
      assert_close(result, from_fixture(expected), 1.0e-4)
    end
  end

  test "default implementations (inside defn) agree with LibTorch" do
    x = Nx.tensor([[1.0, -2.0, 3.5, 0.25, 4.0], [0.5, 0.0, -1.0, 2.0, 1.0]])

    funs = [
      &Nx.fft2(&1, lengths: [3, 4]),
      &Nx.ifft2(&1, axes: [1, 0]),
      &Nx.rfft(&1, length: 6),
      &Nx.rfft(&1, axis: 0),
      &Nx.irfft(Nx.rfft(&1), length: 5),
      &Nx.irfft(&1, length: 3),
      &Nx.irfft(&1)
    ]

    for fun <- funs do
      traced = Nx.Defn.jit(fun, compiler: Nx.Defn.Evaluator).(x)
      assert_close(traced, fun.(x), 1.0e-5)
    end
  end

  test "round trips" do
    x = Nx.iota({3, 7}, type: :f64) |> Nx.multiply(0.37) |> Nx.sin()
    assert_close(Nx.real(Nx.ifft(Nx.fft(x))), x)
    assert_close(Nx.real(Nx.ifft2(Nx.fft2(x))), x)
    assert_close(Nx.irfft(Nx.rfft(x), length: 7), x)
    assert_close(Nx.irfft(Nx.rfft(x, axis: 0), axis: 0, length: 3), x)
  end

  test "types and names" do
    assert Nx.type(Nx.fft(Nx.tensor([1, 2], type: :u8))) == {:c, 64}
    assert Nx.type(Nx.fft(Nx.tensor([1, 2], type: :f16))) == {:c, 64}
    assert Nx.type(Nx.fft(Nx.tensor([1, 2], type: :f64))) == {:c, 128}
    assert Nx.type(Nx.irfft(Nx.tensor([1, 2], type: :f64))) == {:f, 64}
    assert Nx.type(Nx.irfft(Nx.tensor([1, 2]))) == {:f, 32}
    t = Nx.fft(Nx.tensor([[1, 2], [3, 4]], names: [:x, :y]), axis: :x, length: 3)
    assert t.names == [:x, :y]
    assert Nx.shape(t) == {3, 2}
  end

  test ":eps cleans up small components" do
    x = Nx.tensor([1.0e-12, 0.0], type: :f64)
    assert Nx.to_flat_list(Nx.fft(x)) == [Complex.new(0.0, 0.0), Complex.new(0.0, 0.0)]
    [a, _] = Nx.to_flat_list(Nx.fft(x, eps: 0.0))
    assert a.re == 1.0e-12
  end

  test "errors" do
    assert_raise ArgumentError, ~r/rank > 0/, fn -> Nx.fft(Nx.tensor(1)) end
    assert_raise ArgumentError, fn -> Nx.fft(Nx.tensor([1, 2]), axis: 1) end
    assert_raise ArgumentError, ~r/2 axes/, fn -> Nx.fft2(Nx.iota({2, 2}), axes: [0]) end
    assert_raise ArgumentError, fn -> Nx.fft2(Nx.iota({2, 2}), axes: [0, 0]) end
    assert_raise ArgumentError, ~r/size 2 or more/, fn -> Nx.irfft(Nx.tensor([1.0])) end
  end
end
