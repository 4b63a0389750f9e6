defmodule Nx.DefnTest do
  use ExUnit.Case, async: true

  import Nx.Defn

  doctest Nx.Defn
  doctest Nx.Defn.Kernel

  import Nx.DefnFixtures

  defn square_or_transpose(t) do
    case Nx.shape(t) do
      {n, n} -> t
      _ -> Nx.transpose(t)
    end
  end

  defn counted(t) do
    notify_trace(t)
    Nx.reshape(t, {:auto})
  end

  deftransformp notify_trace(t) do
    send(self(), {:traced, Nx.shape(t)})
    t
  end

  defn(with_private(t), do: private_helper(t) |> Nx.new_axis(0))
  defnp(private_helper(t), do: Nx.transpose(t))

  defn(map_container(%{a: a, b: b}), do: %{sum: Nx.as_type(a, :f32) + b, b: b})

  defn(hooked(t), do: hook(Nx.transpose(t), :my_hook))

  defn(printed(t), do: print_value(Nx.transpose(t), label: "value"))

  @offset 10
  defn attribute_use(t) do
    t + @offset
  end

  describe "defn" do
    test "computes the same as eager calls" do
      t = Nx.iota({6})
      assert Nx.to_list(reshape_transpose(t)) == Nx.to_list(Nx.transpose(Nx.reshape(t, {3, 2})))
      assert Nx.to_list(reshape_transpose(t)) == [[0, 2, 4], [1, 3, 5]]
    end

    test "arithmetic operators with numbers and broadcasting" do
      assert Nx.to_list(affine(Nx.iota({3}), 1.0)) == [2.0, 3.0, 4.0]
      assert Nx.type(affine(Nx.iota({3}), 1.0)) == {:f, 32}
    end

    test "options through default arguments" do
      assert Nx.type(cast(Nx.iota({2}))) == {:f, 32}
      assert Nx.type(cast(Nx.iota({2}), type: :f64)) == {:f, 64}

      assert_raise ArgumentError, ~r/unknown key :bad/, fn -> cast(Nx.iota({2}), bad: 1) end
    end

    test "if and cond pick the branch at runtime" do
      assert Nx.to_number(abs_value(Nx.tensor(-3))) == 3
      assert Nx.to_number(abs_value(Nx.tensor(4))) == 4
      assert Nx.to_number(sign_of(Nx.tensor(-2.5))) == -1
      assert Nx.to_number(sign_of(Nx.tensor(0))) == 0
      assert Nx.to_number(sign_of(Nx.tensor(7))) == 1
    end

    test "while loops with tuple state and range generators" do
      assert Nx.to_number(doubled_three_times(Nx.tensor(3))) == 24
      assert Nx.to_number(sum_with_generator(Nx.tensor(100))) == 106
    end

    test "case matches on shapes at trace time" do
      assert Nx.shape(square_or_transpose(Nx.iota({2, 2}))) == {2, 2}
      assert Nx.shape(square_or_transpose(Nx.iota({2, 3}))) == {3, 2}
    end

    test "traces once per input template" do
      counted(Nx.iota({2, 3}))
      counted(Nx.iota({2, 3}) |> Nx.as_type(:s32))
      counted(Nx.tensor([[9, 8, 7], [6, 5, 4]]))
      assert_received {:traced, {2, 3}}
      refute_received {:traced, _}

      counted(Nx.iota({3, 2}))
      assert_received {:traced, {3, 2}}
      counted(Nx.iota({2, 3}, type: :f32))
      assert_received {:traced, {2, 3}}
    end

    test "private defn and local calls" do
      assert Nx.shape(with_private(Nx.iota({2, 3}))) == {1, 3, 2}
    end

    test "maps as arguments and results" do
      result = map_container(%{a: Nx.iota({2}), b: Nx.tensor(0.5)})
      assert Nx.to_list(result.sum) == [0.5, 1.5]
      assert Nx.to_number(result.b) == 0.5
    end

    test "named hooks given at jit time" do
      fun = Nx.Defn.jit(&hooked/1, hooks: %{my_hook: &send(self(), {:hook, Nx.shape(&1)})})
      assert Nx.shape(fun.(Nx.iota({2, 3}))) == {3, 2}
      assert_received {:hook, {3, 2}}

      hooked(Nx.iota({2, 3}))
      refute_received {:hook, _}
    end

    test "print_value prints at runtime" do
      output = ExUnit.CaptureIO.capture_io(fn -> printed(Nx.iota({1, 2})) end)
      assert output =~ "value: #Nx.Tensor<"
      assert output =~ "s32[2][1]"
    end

    test "module attributes" do
      assert Nx.to_list(attribute_use(Nx.iota({2}))) == [10, 11]
    end
  end

  describe "debug_expr" do
    test "prints the expression in Nx's format" do
      expr = Nx.Defn.debug_expr(&reshape_transpose/1).(Nx.iota({6}))

      assert inspect(expr) == """
             #Nx.Tensor<
               s32[2][3]
             \s\s
               Nx.Defn.Expr
               parameter a:0             s32[6]
               b = reshape a             s32[3][2]
               c = transpose b, [1, 0]   s32[2][3]
             >\
             """
    end

    test "prints cond and while" do
      cond_expr = inspect(Nx.Defn.debug_expr(&abs_value/1).(Nx.tensor(1)))
      assert cond_expr =~ "b = greater a, 0             u8"
      assert cond_expr =~ "d = cond b -> a, true -> c   s32"

      while_expr = inspect(Nx.Defn.debug_expr(&doubled_three_times/1).(Nx.tensor(1)))
      assert while_expr =~ "b = while {0, a}   tuple2"
      assert while_expr =~ "c = elem b, 1      s32"
    end

    test "folds trivial identities" do
      expr = Nx.Defn.debug_expr(fn x -> Nx.multiply(Nx.add(x, 0), 1) end).(Nx.iota({2}))
      assert expr.data.op == :parameter

      expr = Nx.Defn.debug_expr(fn x -> Nx.add(x, 1) end).(Nx.iota({2}))
      assert inspect(expr) =~ "b = add 1, a    s32[2]"
    end
  end

  describe "jit, jit_apply and compile" do
    test "jit with anonymous functions and options" do
      fun = Nx.Defn.jit(fn t, opts -> Nx.transpose(t, opts) end)
      assert Nx.shape(fun.(Nx.iota({2, 3, 4}), axes: [2, 0, 1])) == {4, 2, 3}
    end

    test "jit_apply inside a trace respects :on_conflict" do
      inner = fn t -> Nx.transpose(t) end

      outer = fn t ->
        Nx.Defn.jit_apply(inner, [t], on_conflict: :reuse)
      end

      assert Nx.shape(Nx.Defn.jit_apply(outer, [Nx.iota({2, 3})])) == {3, 2}

      assert_raise RuntimeError, ~r/JIT compilation happening/, fn ->
        Nx.Defn.jit_apply(fn t -> Nx.Defn.jit_apply(inner, [t]) end, [Nx.iota({2})])
      end
    end

    test "compile checks templates" do
      fun = Nx.Defn.compile(&Nx.as_type(&1, :f64), [Nx.template({2}, :s32)])
      assert Nx.to_list(fun.(Nx.tensor([1, 2]))) == [1.0, 2.0]

      assert_raise ArgumentError, ~r/does not match the compiled template/, fn ->
        fun.(Nx.iota({3}))
      end
    end

    test "default options and compiler validation" do
      assert_raise ArgumentError, ~r/is not an Nx.Defn.Compiler/, fn ->
        Nx.Defn.jit_apply(&Nx.transpose/1, [Nx.iota({2})], compiler: String)
      end

      assert_raise ArgumentError, ~r/:hooks option must be a map/, fn ->
        Nx.Defn.jit_apply(&Nx.transpose/1, [Nx.iota({2})], hooks: [])
      end
    end

    test "grad runs through jit outside defn (see grad_test.exs for the rules)" do
      assert Nx.Defn.grad(Nx.tensor(1.0), &Nx.negate/1) |> Nx.to_number() == -1.0
    end
  end

  describe "compile errors" do
    test "Nx functions that need values are rejected" do
      assert_raise CompileError, ~r/Nx.to_number\/1 is not allowed inside defn/, fn ->
        defmodule BadToNumber do
          import Nx.Defn
          defn(f(x), do: Nx.to_number(x))
        end
      end
    end

    test "calls to plain functions are rejected" do
      assert_raise CompileError, ~r/cannot use function helper\/1 inside defn/, fn ->
        defmodule BadLocal do
          import Nx.Defn
          def helper(x), do: x
          defn(f(x), do: helper(x))
        end
      end
    end

    test "remote calls to non-defn functions raise when traced" do
      defmodule BadRemote do
        import Nx.Defn
        defn(f(x), do: IO.inspect(x))
      end

      assert_raise ArgumentError, ~r/cannot invoke IO.inspect\/1 inside defn.*print_value/, fn ->
        BadRemote.f(Nx.iota({2}))
      end
    end

    test "cond without a true clause" do
      defmodule BadCond do
        import Nx.Defn

        defn f(x) do
          cond do
            x > 0 -> x
          end
        end
      end

      assert_raise CompileError, ~r/at least one branch to always evaluate to true/, fn ->
        BadCond.f(Nx.tensor(1))
      end
    end

    test "while body must keep the state's templates" do
      defmodule BadWhile do
        import Nx.Defn

        defn f(x) do
          while x, x < 10 do
            Nx.as_type(x, :f32)
          end
        end
      end

      assert_raise CompileError, ~r/do-block in while must return tensors/, fn ->
        BadWhile.f(Nx.tensor(1))
      end
    end
  end
end
