defmodule Nx.RandomTest do
  use ExUnit.Case, async: true

  doctest Nx.Random

  # Nx 0.13's documentation prints floats with all the digits of their f64 value; the
  # values below are those digits, so comparing the elements as Elixir floats checks
  # every bit.
  defp assert_tensor(tensor, type, shape, values) do
    assert Nx.type(tensor) == type
    assert Nx.shape(tensor) == shape
    assert Nx.to_flat_list(tensor) == List.flatten(values)
  end

  defp assert_complex(tensor, type, shape, pairs) do
    assert Nx.type(tensor) == type
    assert Nx.shape(tensor) == shape
    got = tensor |> Nx.to_flat_list() |> Enum.map(&{Complex.real(&1), Complex.imag(&1)})
    assert got == List.flatten(pairs)
  end

  defp first({value, _key}), do: value

  describe "values documented by Nx 0.13" do
    test "key" do
      assert_tensor(Nx.Random.key(12), {:u, 32}, {2}, [0, 12])
      assert_tensor(Nx.Random.key(999_999_999_999), {:u, 32}, {2}, [232, 3_567_587_327])
    end

    test "split" do
      key = Nx.Random.key(1701)

      assert_tensor(Nx.Random.split(key), {:u, 32}, {2, 2}, [
        [56_197_195, 1_801_093_307],
        [961_309_823, 1_704_866_707]
      ])

      assert_tensor(Nx.Random.split(key, parts: 4), {:u, 32}, {4, 2}, [
        [4_000_152_724, 2_030_591_747],
        [2_287_976_877, 2_598_630_646],
        [2_426_625_787, 580_268_518],
        [3_136_765_380, 433_355_682]
      ])
    end

    test "fold_in" do
      key = Nx.Random.key(42)
      assert_tensor(Nx.Random.fold_in(key, 99), {:u, 32}, {2}, [2_015_327_502, 1_351_855_566])
      assert_tensor(Nx.Random.fold_in(key, 1234), {:u, 32}, {2}, [1_356_445_167, 2_917_756_949])

      assert_tensor(
        Nx.Random.fold_in(key, Nx.tensor([[1, 99], [1234, 13]])),
        {:u, 32},
        {2, 2, 2},
        [
          [[64_467_757, 2_916_123_636], [2_015_327_502, 1_351_855_566]],
          [[1_356_445_167, 2_917_756_949], [3_514_951_389, 229_662_949]]
        ]
      )
    end

    test "uniform" do
      assert_tensor(first(Nx.Random.uniform(Nx.Random.key(12))), {:f, 32}, {}, [
        0.7691127061843872
      ])

      key = Nx.Random.key(1701)
      assert_tensor(first(Nx.Random.uniform(key)), {:f, 32}, {}, [0.9728643894195557])

      assert_tensor(
        first(Nx.Random.uniform(key, shape: {3, 2}, type: :f16)),
        {:f, 16},
        {3, 2},
        [[0.75390625, 0.6484375], [0.7294921875, 0.21484375], [0.09765625, 0.0693359375]]
      )

      assert_complex(first(Nx.Random.uniform(key, shape: {2, 2}, type: :c64)), {:c, 64}, {2, 2}, [
        [{0.18404805660247803, 0.6546461582183838}, {0.5525915622711182, 0.11568140983581543}],
        [{0.6074584722518921, 0.8104375600814819}, {0.247686505317688, 0.21975469589233398}]
      ])
    end

    test "randint" do
      key = Nx.Random.key(1701)
      assert_tensor(first(Nx.Random.randint(key, 1, 100)), {:s, 32}, {}, [91])

      assert_tensor(
        first(Nx.Random.randint(key, 1, 100, shape: {3, 2}, type: :u32)),
        {:u, 32},
        {3, 2},
        [[9, 20], [19, 6], [71, 15]]
      )
    end

    test "normal" do
      key = Nx.Random.key(42)
      assert_tensor(first(Nx.Random.normal(key)), {:f, 32}, {}, [1.3694695234298706])

      assert_tensor(
        first(Nx.Random.normal(key, 0, 1, shape: {3, 2}, type: :f16)),
        {:f, 16},
        {3, 2},
        [
          [-0.32568359375, -0.77197265625],
          [0.39208984375, 0.5341796875],
          [0.270751953125, -2.080078125]
        ]
      )

      assert_complex(
        first(Nx.Random.normal(key, 0, 1, shape: {2, 2}, type: :c64)),
        {:c, 64},
        {2, 2},
        [
          [
            {-0.7632761001586914, 0.8661127686500549},
            {-0.14282889664173126, -0.7384796142578125}
          ],
          [{0.678461492061615, 0.4118310809135437}, {-2.269538402557373, -0.3689095079898834}]
        ]
      )

      normal = first(Nx.Random.normal(Nx.Random.key(1337), 10, 5, shape: {1_000}))
      # The draws are exact; their mean and deviation go through our own reductions.
      assert_in_delta Nx.to_number(Nx.mean(normal)), 9.70022201538086, 1.0e-5
      assert_in_delta Nx.to_number(Nx.standard_deviation(normal)), 5.051416397094727, 1.0e-5
    end

    test "multivariate_normal" do
      key = Nx.Random.key(12)

      assert_tensor(
        first(Nx.Random.multivariate_normal(key, Nx.tensor([0]), Nx.tensor([[1]]))),
        {:f, 32},
        {1},
        [0.735927939414978]
      )

      assert_tensor(
        first(Nx.Random.multivariate_normal(key, Nx.tensor([0, 0]), Nx.tensor([[1, 0], [0, 1]]))),
        {:f, 32},
        {2},
        [-1.3425945043563843, -0.40812060236930847]
      )

      assert_tensor(
        first(
          Nx.Random.multivariate_normal(key, Nx.tensor([0]), Nx.tensor([[1]]),
            shape: {3, 2},
            type: :f16
          )
        ),
        {:f, 16},
        {3, 2, 1},
        [
          [[0.326904296875], [0.2176513671875]],
          [[0.316650390625], [0.1109619140625]],
          [[0.53955078125], [-0.8857421875]]
        ]
      )

      assert_tensor(
        first(
          Nx.Random.multivariate_normal(key, Nx.tensor([0, 0]), Nx.tensor([[1, 0], [0, 1]]),
            shape: {3, 2}
          )
        ),
        {:f, 32},
        {3, 2, 2},
        [
          [[0.9891449809074402, 1.0795185565948486], [-0.9467806220054626, 1.47813880443573]],
          [[2.2095863819122314, -1.529456377029419], [-0.7933920621871948, 1.121195673942566]],
          [[0.10976295918226242, -0.9959557056427002], [0.4754556119441986, 1.1413804292678833]]
        ]
      )
    end

    test "shuffle" do
      shuffled = first(Nx.Random.shuffle(Nx.Random.key(42), Nx.iota({3, 4}, axis: 0)))
      assert_tensor(shuffled, {:s, 32}, {3, 4}, [[2, 2, 2, 2], [0, 0, 0, 0], [1, 1, 1, 1]])

      shuffled =
        first(
          Nx.Random.shuffle(Nx.Random.key(10), Nx.iota({3, 4}, axis: 1),
            independent: true,
            axis: 1
          )
        )

      assert_tensor(shuffled, {:s, 32}, {3, 4}, [[2, 1, 3, 0], [3, 0, 1, 2], [2, 3, 0, 1]])
    end

    test "choice without probabilities" do
      k = Nx.Random.key(1)
      t = Nx.iota({4, 3})

      assert_tensor(first(Nx.Random.choice(k, t, samples: 4, axis: 0)), {:s, 32}, {4, 3}, [
        [6, 7, 8],
        [9, 10, 11],
        [6, 7, 8],
        [0, 1, 2]
      ])

      assert_tensor(
        first(Nx.Random.choice(k, t, samples: 4, axis: 0, replace: false)),
        {:s, 32},
        {4, 3},
        [[3, 4, 5], [9, 10, 11], [6, 7, 8], [0, 1, 2]]
      )

      k = Nx.Random.key(2)
      t = Nx.iota({3, 2})
      assert_tensor(first(Nx.Random.choice(k, t)), {:s, 32}, {1}, [4])

      assert_tensor(first(Nx.Random.choice(k, t, samples: 6, replace: false)), {:s, 32}, {6}, [
        2,
        0,
        4,
        5,
        1,
        3
      ])
    end

    test "choice with probabilities" do
      k = Nx.Random.key(1)
      t = Nx.iota({4, 3})
      p = Nx.tensor([0.1, 0.7, 0.2])

      assert_tensor(first(Nx.Random.choice(k, t, p, samples: 3, axis: 1)), {:s, 32}, {4, 3}, [
        [1, 0, 1],
        [4, 3, 4],
        [7, 6, 7],
        [10, 9, 10]
      ])

      assert_tensor(
        first(Nx.Random.choice(k, t, p, samples: 3, axis: 1, replace: false)),
        {:s, 32},
        {4, 3},
        [[1, 2, 0], [4, 5, 3], [7, 8, 6], [10, 11, 9]]
      )

      k = Nx.Random.key(2)
      t = Nx.iota({2, 3})
      p = Nx.tensor([0.01, 0.1, 0.19, 0.6, 0.05, 0.05])
      assert_tensor(first(Nx.Random.choice(k, t, p)), {:s, 32}, {1}, [3])

      assert_tensor(first(Nx.Random.choice(k, t, p, samples: 6)), {:s, 32}, {6}, [
        3,
        3,
        3,
        0,
        3,
        3
      ])

      assert_tensor(first(Nx.Random.choice(k, t, p, samples: 6, replace: false)), {:s, 32}, {6}, [
        3,
        1,
        2,
        5,
        4,
        0
      ])
    end

    test "gumbel" do
      assert_tensor(first(Nx.Random.gumbel(Nx.Random.key(1))), {:f, 32}, {}, [
        -0.7294610142707825
      ])

      assert_tensor(first(Nx.Random.gumbel(Nx.Random.key(1), shape: {2, 3})), {:f, 32}, {2, 3}, [
        [0.6247938275337219, -0.21740718185901642, 0.7678327560424805],
        [0.7778404355049133, 4.0895304679870605, 0.3029090166091919]
      ])
    end
  end

  describe "keys" do
    test "seeds are integers or 64-bit scalar tensors" do
      assert Nx.to_list(Nx.Random.key(0xFFFF_FFFF_FFFF_FFFF)) == [0xFFFF_FFFF, 0xFFFF_FFFF]
      assert Nx.to_list(Nx.Random.key(-2)) == [0xFFFF_FFFF, 0xFFFF_FFFE]
      assert Nx.to_list(Nx.Random.key(Nx.tensor(2 ** 40 + 3, type: :u64))) == [256, 3]
      assert Nx.to_list(Nx.Random.key(Nx.tensor(-2, type: :s64))) == [0xFFFF_FFFF, 0xFFFF_FFFE]

      assert_raise ArgumentError, ~r/expected seed to be an integer, u64 tensor or s64/, fn ->
        Nx.Random.key(Nx.tensor(1))
      end

      assert_raise ArgumentError, ~r/expected seed/, fn -> Nx.Random.key(2 ** 64) end
    end

    test "functions check the key" do
      assert_raise ArgumentError,
                   "expected key to have shape {2}, got tensor with shape {3}",
                   fn ->
                     Nx.Random.split(Nx.tensor([1, 2, 3], type: :u32))
                   end

      assert_raise ArgumentError,
                   "expected key with 32-bit unsigned integer type, got key with type {:s, 32}",
                   fn -> Nx.Random.uniform(Nx.tensor([1, 2])) end
    end

    test "split gives distinct keys, and parts: 1 one key" do
      keys = Nx.Random.split(Nx.Random.key(3), parts: 5) |> Nx.to_list()
      assert length(Enum.uniq(keys)) == 5
      assert Nx.shape(Nx.Random.split(Nx.Random.key(3), parts: 1)) == {1, 2}
      assert_raise ArgumentError, fn -> Nx.Random.split(Nx.Random.key(3), parts: 0) end
      assert_raise ArgumentError, fn -> Nx.Random.split(Nx.Random.key(3), count: 2) end
    end

    test "fold_in takes any integer data and rejects floats" do
      key = Nx.Random.key(42)

      assert Nx.to_list(Nx.Random.fold_in(key, Nx.tensor(99, type: :u8))) ==
               Nx.to_list(Nx.Random.fold_in(key, 99))

      assert_raise ArgumentError, ~r/expected data to be an integer/, fn ->
        Nx.Random.fold_in(key, 1.5)
      end
    end

    test "threefry2x32_20_concat checks its counters" do
      key = Nx.Random.key(1)

      assert_raise ArgumentError, ~r/expected counters of type/, fn ->
        Nx.Random.threefry2x32_20_concat(Nx.iota({2, 2}), key)
      end
    end
  end

  describe "distributions" do
    test "uniform stays in [min, max) for every float type" do
      key = Nx.Random.key(9)

      for type <- [:f16, :bf16, :f32, :f64] do
        values = Nx.Random.uniform_split(key, -2, 3, shape: {500}, type: type)
        assert Nx.type(values) == Nx.Type.normalize!(type)
        assert Nx.to_number(Nx.reduce_min(values)) >= -2
        assert Nx.to_number(Nx.reduce_max(values)) < 3
      end
    end

    test "uniform and normal infer their type from the bounds" do
      key = Nx.Random.key(9)
      assert Nx.type(Nx.Random.uniform_split(key, 0, 1)) == {:f, 32}
      assert Nx.type(Nx.Random.uniform_split(key, Nx.f64(0), 1)) == {:f, 64}
      assert Nx.type(Nx.Random.normal_split(key, Nx.tensor(0, type: :bf16), 1)) == {:bf, 16}

      assert Nx.type(
               Nx.Random.randint_split(key, Nx.tensor(0, type: :u8), Nx.tensor(7, type: :u8))
             ) ==
               {:u, 8}
    end

    test "tensor bounds broadcast" do
      key = Nx.Random.key(9)
      lo = Nx.tensor([0.0, 10.0, 100.0])
      values = Nx.Random.uniform_split(key, lo, Nx.add(lo, 1), shape: {4, 3})

      for row <- Nx.to_list(values), {v, l} <- Enum.zip(row, [0.0, 10.0, 100.0]) do
        assert v >= l and v < l + 1
      end

      ints = Nx.Random.randint_split(key, Nx.tensor([0, 50]), Nx.tensor([5, 55]), shape: {100, 2})

      for [a, b] <- Nx.to_list(ints) do
        assert a in 0..4 and b in 50..54
      end
    end

    test "randint covers [min, max) for several integer types" do
      key = Nx.Random.key(4)

      for type <- [:s8, :u8, :s16, :u16, :s32, :u32, :s64, :u64] do
        values = Nx.Random.randint_split(key, 3, 9, shape: {600}, type: type)
        assert Nx.type(values) == Nx.Type.normalize!(type)
        assert values |> Nx.to_flat_list() |> Enum.uniq() |> Enum.sort() == Enum.to_list(3..8)
      end

      assert_raise ArgumentError, "expected integer type, got type {:f, 32}", fn ->
        Nx.Random.randint(key, 0, 1, type: :f32)
      end
    end

    test "normal has the requested moments" do
      values = first(Nx.Random.normal(Nx.Random.key(77), 3.0, 2.0, shape: {20_000}))
      assert_in_delta Nx.to_number(Nx.mean(values)), 3.0, 0.05
      assert_in_delta Nx.to_number(Nx.standard_deviation(values)), 2.0, 0.05

      assert_raise ArgumentError, "expected float or complex type, got type {:u, 8}", fn ->
        Nx.Random.normal(Nx.Random.key(1), 0, 1, type: :u8)
      end
    end

    test "gumbel has the Euler-Mascheroni constant as its mean" do
      values = first(Nx.Random.gumbel(Nx.Random.key(5), shape: {20_000}))
      assert_in_delta Nx.to_number(Nx.mean(values)), 0.5772156649, 0.03

      assert_raise ArgumentError, "output type must be floating-point, got: {:s, 32}", fn ->
        Nx.Random.gumbel(Nx.Random.key(5), type: :s32)
      end
    end

    test "names are applied" do
      key = Nx.Random.key(1)

      assert Nx.names(Nx.Random.uniform_split(key, 0, 1, shape: {2, 3}, names: [:a, :b])) == [
               :a,
               :b
             ]

      assert Nx.names(Nx.Random.normal_split(key, 0, 1, shape: {2}, names: [:x])) == [:x]
      assert Nx.names(Nx.Random.randint_split(key, 0, 5, shape: {2}, names: [:x])) == [:x]

      assert Nx.names(Nx.Random.normal_split(key, 0, 1, shape: {2}, type: :c64, names: [:x])) ==
               [:x]
    end

    test "multivariate normal reproduces its covariance with every method" do
      mean = Nx.tensor([1.0, -2.0])
      cov = Nx.tensor([[2.0, 0.6], [0.6, 1.0]])

      for method <- [:cholesky, :svd, :eigh] do
        values =
          Nx.Random.multivariate_normal_split(Nx.Random.key(3), mean, cov,
            shape: {20_000},
            method: method
          )

        assert Nx.shape(values) == {20_000, 2}
        assert_in_delta Nx.to_number(Nx.mean(values[[.., 0]])), 1.0, 0.05
        assert_in_delta Nx.to_number(Nx.mean(values[[.., 1]])), -2.0, 0.05
        centered = Nx.subtract(values, Nx.mean(values, axes: [0]))
        sample_cov = Nx.divide(Nx.dot(centered, [0], centered, [0]), 20_000) |> Nx.to_list()

        for {row, expected_row} <- Enum.zip(sample_cov, [[2.0, 0.6], [0.6, 1.0]]),
            {got, expected} <- Enum.zip(row, expected_row) do
          assert_in_delta got, expected, 0.08, "#{method}"
        end
      end

      # A singular covariance is fine for :svd and :eigh.
      singular = Nx.tensor([[1.0, 1.0], [1.0, 1.0]])

      for method <- [:svd, :eigh] do
        values =
          Nx.Random.multivariate_normal_split(Nx.Random.key(3), Nx.tensor([0.0, 0.0]), singular,
            shape: {50},
            method: method
          )

        [a, b] = values |> Nx.transpose() |> Nx.to_list()
        for {x, y} <- Enum.zip(a, b), do: assert_in_delta(x, y, 1.0e-4)
      end
    end

    test "multivariate normal validates its arguments" do
      key = Nx.Random.key(1)
      mean = Nx.tensor([0.0, 0.0])

      assert_raise ArgumentError, ~r/expected mean to have rank 1/, fn ->
        Nx.Random.multivariate_normal(key, Nx.tensor(0.0), Nx.tensor([[1.0]]))
      end

      assert_raise ArgumentError, ~r/expected covariance to be a square matrix/, fn ->
        Nx.Random.multivariate_normal(key, mean, Nx.iota({2, 3}, type: :f32))
      end

      assert_raise ArgumentError, ~r/same dimensions, got 2 and 3/, fn ->
        Nx.Random.multivariate_normal(key, mean, Nx.eye(3, type: :f32))
      end

      assert_raise ArgumentError, ~r/method must be one of/, fn ->
        Nx.Random.multivariate_normal(key, mean, Nx.eye(2, type: :f32), method: :lu)
      end
    end
  end

  describe "permutations and sampling" do
    test "shuffle permutes slices, independently when asked" do
      t = Nx.iota({6, 5})
      shuffled = first(Nx.Random.shuffle(Nx.Random.key(8), t))
      rows = Nx.to_list(shuffled)
      assert Enum.sort(rows) == Nx.to_list(t)

      shuffled = first(Nx.Random.shuffle(Nx.Random.key(8), t, axis: 1, independent: true))

      for {row, original} <- Enum.zip(Nx.to_list(shuffled), Nx.to_list(t)) do
        assert Enum.sort(row) == original
      end
    end

    test "shuffle of a single entry returns it and the same key" do
      key = Nx.Random.key(8)
      {shuffled, new_key} = Nx.Random.shuffle(key, Nx.tensor([7]))
      assert Nx.to_list(shuffled) == [7]
      assert Nx.to_list(new_key) == Nx.to_list(key)
    end

    test "choice validates its options" do
      key = Nx.Random.key(1)

      assert_raise ArgumentError, "tensor must have rank 1 or greater", fn ->
        Nx.Random.choice(key, Nx.tensor(1))
      end

      assert_raise ArgumentError, ~r/at least one sample/, fn ->
        Nx.Random.choice(key, Nx.iota({3}), samples: 0)
      end

      assert_raise ArgumentError, "probability tensor must have rank 1, got: 2", fn ->
        Nx.Random.choice(key, Nx.iota({4}), Nx.broadcast(0.25, {2, 2}), [])
      end
    end
  end

  describe "inside defn" do
    defmodule Sampler do
      import Nx.Defn

      defn draw(key) do
        {u, key} = Nx.Random.uniform(key, shape: {3})
        {n, key} = Nx.Random.normal(key, 0.0, 1.0, shape: {2})
        {i, key} = Nx.Random.randint(key, 0, 10, shape: {4})
        {s, _key} = Nx.Random.shuffle(key, Nx.iota({5}))
        {u, n, i, s}
      end

      defn seeded(seed), do: Nx.Random.key(seed)

      defn folded(key, data), do: Nx.Random.fold_in(key, data)
    end

    test "gives the values of the eager calls" do
      key = Nx.Random.key(21)
      {u, n, i, s} = Sampler.draw(key)

      {eu, k} = Nx.Random.uniform(key, shape: {3})
      {en, k} = Nx.Random.normal(k, 0.0, 1.0, shape: {2})
      {ei, k} = Nx.Random.randint(k, 0, 10, shape: {4})
      {es, _} = Nx.Random.shuffle(k, Nx.iota({5}))

      assert Nx.to_list(u) == Nx.to_list(eu)
      assert Nx.to_list(n) == Nx.to_list(en)
      assert Nx.to_list(i) == Nx.to_list(ei)
      assert Nx.to_list(s) == Nx.to_list(es)
    end

    test "gives the same bits under Nx.Torch.Compiler" do
      key = Nx.Random.key(21)
      eager = Sampler.draw(key)
      compiled = Nx.Defn.jit(&Sampler.draw/1, compiler: Nx.Torch.Compiler).(key)

      for {a, b} <- Enum.zip(Tuple.to_list(eager), Tuple.to_list(compiled)) do
        assert Nx.to_list(a) == Nx.to_list(b)
      end

      gumbel = &Nx.Random.gumbel(&1, shape: {4, 3})
      {eager, _} = gumbel.(key)
      {compiled, _} = Nx.Defn.jit(gumbel, compiler: Nx.Torch.Compiler).(key)
      assert Nx.to_list(eager) == Nx.to_list(compiled)
    end

    test "key and fold_in trace" do
      assert Nx.to_list(Sampler.seeded(Nx.tensor(999_999_999_999, type: :u64))) ==
               [232, 3_567_587_327]

      assert Nx.to_list(Sampler.folded(Nx.Random.key(42), 99)) == [2_015_327_502, 1_351_855_566]
    end
  end

  describe "against JAX (test/fixtures/gen_random.py)" do
    @fixtures "test/fixtures/random.exs" |> Code.eval_file() |> elem(0)

    defp key_of(words), do: Nx.tensor(words, type: :u32)

    defp float_bits(tensor) do
      {_, size} = Nx.type(tensor)
      tensor |> Nx.bitcast({:u, size}) |> Nx.to_flat_list()
    end

    defp close?(a, b, tol), do: abs(a - b) <= tol * max(1.0, abs(b))

    test "covers every kind of case" do
      kinds = @fixtures |> Enum.map(& &1.fun) |> Enum.uniq() |> Enum.sort()
      assert kinds == [:bits, :fold_in, :gumbel, :key, :normal, :permutation, :split, :uniform]
    end

    test "keys, splits and folds are identical" do
      for %{fun: fun} = c <- @fixtures, fun in [:key, :split, :fold_in] do
        got =
          case fun do
            :key -> Nx.Random.key(c.seed)
            :split -> Nx.Random.split(key_of(c.key), parts: c.parts)
            :fold_in -> Nx.Random.fold_in(key_of(c.key), Nx.tensor(c.data, type: :u32))
          end

        assert Nx.to_flat_list(got) == c.expected, "#{inspect(c)}"
      end
    end

    test "raw bits are identical" do
      for %{fun: :bits} = c <- @fixtures do
        n = Tuple.product(c.shape)
        counters = Enum.to_list(0..(n - 1)) ++ if(rem(n, 2) == 1, do: [0], else: [])
        counters = Nx.tensor(counters, type: :u32) |> Nx.reshape({2, :auto})
        got = Nx.Random.threefry2x32_20_concat(counters, key_of(c.key)) |> Nx.to_flat_list()
        assert Enum.take(got, n) == c.expected, "#{inspect(c)}"
      end
    end

    test "uniform floats are identical bit for bit" do
      for %{fun: :uniform} = c <- @fixtures do
        got = Nx.Random.uniform_split(key_of(c.key), c.min, c.max, shape: c.shape, type: c.type)

        assert float_bits(got) == c.bits, "#{inspect(c)}"
      end
    end

    test "normal and gumbel agree to within the precision of erf_inv and log" do
      for %{fun: fun} = c <- @fixtures, fun in [:normal, :gumbel] do
        got =
          case fun do
            :normal ->
              Nx.Random.normal_split(key_of(c.key), 0.0, 1.0, shape: c.shape, type: c.type)

            :gumbel ->
              Nx.Random.gumbel_split(key_of(c.key), shape: c.shape, type: c.type)
          end

        # Nx's erf_inv is a single-precision approximation, also for f64.
        tol = if fun == :normal, do: 2.0e-6, else: 1.0e-6

        for {a, b} <- Enum.zip(Nx.to_flat_list(got), c.expected) do
          assert close?(a, b, tol), "#{inspect(c)}: #{a} != #{b}"
        end
      end
    end

    test "permutations are identical" do
      for %{fun: :permutation} = c <- @fixtures do
        t = Nx.iota(c.shape)
        {got, _} = Nx.Random.shuffle(key_of(c.key), t, axis: c.axis, independent: c.independent)
        assert Nx.to_flat_list(got) == c.expected, "#{inspect(c)}"
      end
    end
  end
end
