defmodule ComplexTest do
  use ExUnit.Case, async: true

  doctest Complex

  @eps 1.0e-12

  defp assert_close(%Complex{re: re, im: im}, {exp_re, exp_im}) do
    assert_in_delta re, exp_re, @eps
    assert_in_delta im, exp_im, @eps
  end

  defp assert_close(%Complex{} = actual, %Complex{re: re, im: im}),
    do: assert_close(actual, {re, im})

  defp assert_close(actual, expected) when is_float(actual),
    do: assert_in_delta(actual, expected, @eps)

  describe "new/2 and the struct" do
    test "converts integers to floats and keeps non-finite atoms" do
      assert %Complex{re: 1.0, im: 0.0} = Complex.new(1)
      assert %Complex{re: :neg_infinity, im: -3.0} = Complex.new(:neg_infinity, -3)
    end

    test "rejects anything else" do
      assert_raise FunctionClauseError, fn -> Complex.new("1") end
      assert_raise FunctionClauseError, fn -> Complex.new(1, Complex.new(1)) end
    end
  end

  describe "printing and parsing" do
    test "inspect and to_string print re+imi" do
      assert inspect(Complex.new(1, 2)) == "1.0+2.0i"
      assert inspect(Complex.new(1, -1)) == "1.0-1.0i"
      assert inspect(Complex.new(-0.0, -0.0)) == "0.0+0.0i"
      assert inspect(Complex.new(1.0e-10, 1.0e20)) == "1.0e-10+1.0e20i"
      assert Kernel.to_string(Complex.new(:infinity, :neg_infinity)) == "Inf-Infi"
      assert "#{Complex.new(:nan, :nan)}" == "NaN+NaNi"
    end

    test "parse/1 reads back what to_string/1 prints" do
      values = [
        Complex.new(1, 2),
        Complex.new(-1.5, -0.25),
        Complex.new(0, -3),
        Complex.new(1.0e-10, 1.0e20),
        Complex.new(:infinity, :neg_infinity),
        Complex.new(:nan, 4),
        Complex.new(-2, :nan)
      ]

      for z <- values do
        assert Complex.parse(Complex.to_string(z)) == {z, ""}
      end
    end

    test "parse/1 edge cases" do
      assert Complex.parse("i") == {Complex.new(0, 1), ""}
      assert Complex.parse("-i rest") == {Complex.new(0, -1), " rest"}
      assert Complex.parse("1-3.i") == {Complex.new(1, -3), ""}
      assert Complex.parse("NaN") == {Complex.new(:nan), ""}
      assert Complex.parse("-Inf") == {Complex.new(:neg_infinity), ""}
      assert Complex.parse("1+x") == {Complex.new(1), "+x"}
      assert Complex.parse("") == :error
      assert Complex.parse("+") == :error
    end
  end

  describe "arithmetic" do
    test "add, subtract, multiply and divide agree with the textbook formulas" do
      for {a, b} <- [{1.5, -2.0}, {0.0, 3.0}, {-4.25, 0.5}],
          {c, d} <- [{2.0, 1.0}, {-0.5, 0.0}, {0.0, -3.0}] do
        x = Complex.new(a, b)
        y = Complex.new(c, d)
        assert_close(Complex.add(x, y), {a + c, b + d})
        assert_close(Complex.subtract(x, y), {a - c, b - d})
        assert_close(Complex.multiply(x, y), {a * c - b * d, a * d + b * c})
        den = c * c + d * d
        assert_close(Complex.divide(x, y), {(a * c + b * d) / den, (b * c - a * d) / den})
        assert_close(Complex.multiply(Complex.divide(x, y), y), x)
      end
    end

    test "mixing reals and complex numbers" do
      z = Complex.new(2, -3)
      assert Complex.add(1, z) == Complex.new(3, -3)
      assert Complex.subtract(z, 2) == Complex.new(0, -3)
      assert Complex.multiply(z, 0.5) == Complex.new(1, -1.5)
      assert Complex.divide(z, 2) == Complex.new(1, -1.5)
      assert Complex.divide(3, Complex.new(0, 3)) == Complex.new(0, -1)
    end

    test "reals keep Elixir's number semantics" do
      assert Complex.add(1, 2) === 3
      assert Complex.multiply(2, 2.5) === 5.0
      assert Complex.divide(1, 4) === 0.25
      assert Complex.negate(0) === 0
    end

    test "IEEE rules for non-finite reals" do
      assert Complex.add(:infinity, 1) == :infinity
      assert Complex.add(:nan, 1) == :nan
      assert Complex.subtract(1, :infinity) == :neg_infinity
      assert Complex.subtract(:neg_infinity, :infinity) == :neg_infinity
      assert Complex.multiply(:neg_infinity, -2) == :infinity
      assert Complex.multiply(:infinity, :neg_infinity) == :neg_infinity
      assert Complex.divide(:infinity, -2) == :neg_infinity
      assert Complex.divide(5, :neg_infinity) == 0.0
      assert Complex.divide(:infinity, :infinity) == :nan
      assert Complex.divide(0, 0) == :nan
      assert Complex.divide(0.0, 0.0) == :nan
      assert Complex.divide(2, 0.0) == :infinity
    end

    test "float overflow becomes infinity instead of raising" do
      assert Complex.multiply(1.0e308, 10) == :infinity
      assert Complex.multiply(-1.0e308, 10) == :neg_infinity
      assert Complex.add(1.7e308, 1.7e308) == :infinity
      assert Complex.divide(1.0e308, 1.0e-308) == :infinity
      assert Complex.multiply(Complex.new(1.0e308, 0), 10) == Complex.new(:infinity, 0)
    end

    test "complex division by zero and by huge numbers" do
      assert Complex.divide(Complex.new(1, 0), Complex.new(0, 0)) == Complex.new(:infinity, :nan)
      assert Complex.divide(Complex.new(0, 0), Complex.new(0, 0)) == Complex.new(:nan, :nan)
      # Smith's algorithm does not overflow where c^2 + d^2 would.
      assert_close(
        Complex.divide(Complex.new(1.0e300, 1.0e300), Complex.new(1.0e300, 1.0e300)),
        {1, 0}
      )

      assert Complex.divide(Complex.new(:nan, 0), Complex.new(1, 1)) == Complex.new(:nan, :nan)

      assert Complex.divide(Complex.new(:infinity, 0), Complex.new(1, 1)) ==
               Complex.new(:infinity, :neg_infinity)
    end
  end

  describe "parts, magnitude and angle" do
    test "abs/1 is exact for Pythagorean triples and handles extremes" do
      assert Complex.abs(Complex.new(5, 12)) == 13.0
      assert Complex.abs(Complex.new(-8, 15)) == 17.0
      assert Complex.abs(Complex.new(1.0e300, 1.0e300)) == 1.0e300 * :math.sqrt(2)
      assert Complex.abs(Complex.new(1.0e-300, 1.0e-300)) > 0
      assert Complex.abs(Complex.new(:nan, 1)) == :nan
      assert Complex.abs(Complex.new(:infinity, :nan)) == :infinity
    end

    test "phase/1 over the four quadrants and the axes" do
      pi = :math.pi()
      assert Complex.phase(Complex.new(1, 0)) == 0.0
      assert Complex.phase(Complex.new(-1, 0)) == pi
      assert Complex.phase(Complex.new(0, -1)) == -pi / 2
      assert_close(Complex.phase(Complex.new(-1, 1)), 3 * pi / 4)
      assert Complex.phase(Complex.new(:neg_infinity, :neg_infinity)) == -3 * pi / 4
      assert Complex.phase(Complex.new(:neg_infinity, 1)) == pi
      assert Complex.phase(Complex.new(:neg_infinity, -1)) == -pi
      assert Complex.phase(Complex.new(1, :nan)) == :nan
      assert Complex.phase(:nan) == :nan
      assert Complex.phase(:neg_infinity) == pi
    end

    test "polar round trip" do
      for z <- [Complex.new(3, 4), Complex.new(-2, 0.5), Complex.new(0, -7)] do
        assert_close(Complex.from_polar(Complex.to_polar(z)), z)
      end
    end

    test "real/1, imag/1 and conjugate/1 on non-finite values" do
      assert Complex.real(:nan) == :nan
      assert Complex.imag(:infinity) == 0.0
      assert Complex.conjugate(Complex.new(:nan, :nan)) == Complex.new(:nan, :nan)
      assert Complex.conjugate(Complex.new(1, :neg_infinity)) == Complex.new(1, :infinity)
    end
  end

  describe "powers, roots, exponentials and logarithms" do
    test "sqrt/1 squares back to its input" do
      for z <- [Complex.new(3, 4), Complex.new(-3, 4), Complex.new(-3, -4), Complex.new(0, 2)] do
        root = Complex.sqrt(z)
        assert Complex.real(root) >= 0
        assert_close(Complex.square(root), z)
      end
    end

    test "sqrt/1 of negative reals: real domain vs complex domain" do
      assert Complex.sqrt(-9) == :nan
      assert Complex.sqrt(Complex.new(-9)) == Complex.new(0, 3)
      assert Complex.sqrt(Complex.new(-9, -0.0)) == Complex.new(0, 3)
      assert Complex.sqrt(Complex.new(-9, -1.0e-300)) == Complex.new(1.6666666666666667e-301, -3)
    end

    test "sqrt/1 non-finite cases follow C99 csqrt" do
      assert Complex.sqrt(Complex.new(:nan, :infinity)) == Complex.new(:infinity, :infinity)
      assert Complex.sqrt(Complex.new(:infinity, 2)) == Complex.new(:infinity, 0)
      assert Complex.sqrt(Complex.new(:neg_infinity, 2)) == Complex.new(0, :infinity)
      assert Complex.sqrt(Complex.new(:neg_infinity, -2)) == Complex.new(0, :neg_infinity)
      assert Complex.sqrt(Complex.new(:infinity, :nan)) == Complex.new(:infinity, :nan)
      assert Complex.sqrt(Complex.new(1, :nan)) == Complex.new(:nan, :nan)
      assert Complex.sqrt(:infinity) == :infinity
      assert Complex.sqrt(:neg_infinity) == :nan
    end

    test "cbrt/1 cubes back to its input" do
      assert Complex.cbrt(8) == 2.0
      z = Complex.new(-8, 3)
      assert_close(Complex.multiply(Complex.square(Complex.cbrt(z)), Complex.cbrt(z)), z)
    end

    test "exp/1 and log/1 are inverses on the principal branch" do
      for z <- [Complex.new(1, 2), Complex.new(-0.5, -3), Complex.new(2, 0)] do
        assert_close(Complex.log(Complex.exp(z)), z)
        assert_close(Complex.exp(Complex.log(z)), z)
      end
    end

    test "exp/1 at infinities" do
      assert Complex.exp(Complex.new(:neg_infinity, 5)) == Complex.new(0, 0)
      assert Complex.exp(Complex.new(:infinity, :nan)) == Complex.new(:infinity, :nan)
      # cos(3) < 0 and sin(3) > 0
      assert Complex.exp(Complex.new(:infinity, 3)) == Complex.new(:neg_infinity, :infinity)
      assert Complex.exp(Complex.new(1, :infinity)) == Complex.new(:nan, :nan)
      assert Complex.exp(Complex.new(800, 1)) == Complex.new(:infinity, :infinity)
    end

    test "logarithms of reals stay real" do
      assert Complex.log(:infinity) == :infinity
      assert Complex.log(:neg_infinity) == :nan
      assert Complex.log2(0) == :neg_infinity
      assert Complex.log10(-5) == :nan
      assert Complex.log(Complex.new(:neg_infinity)) == Complex.new(:infinity, :math.pi())
    end

    test "pow/2 on reals follows IEEE pow" do
      assert Complex.pow(2, -1) == 0.5
      assert Complex.pow(-2, 3) == -8
      assert Complex.pow(-2.0, 3) == -8.0
      assert Complex.pow(0, -1) == :infinity
      assert Complex.pow(:nan, 0) == 1.0
      assert Complex.pow(2, :infinity) == :infinity
      assert Complex.pow(2, :neg_infinity) == 0.0
      assert Complex.pow(0.5, :neg_infinity) == :infinity
      assert Complex.pow(1, :infinity) == 1.0
      assert Complex.pow(:infinity, -1) == 0.0
      assert Complex.pow(:neg_infinity, 3) == :neg_infinity
      assert Complex.pow(:neg_infinity, 2) == :infinity
      assert Complex.pow(10.0, 400) == :infinity
      assert Complex.pow(-10.0, 401) == :neg_infinity
    end

    test "pow/2 on complex numbers" do
      z = Complex.new(1, 2)
      assert_close(Complex.pow(z, 2), Complex.square(z))
      assert_close(Complex.pow(z, -1), Complex.divide(1, z))
      assert Complex.pow(z, 1) == z
      # i^i = e^(-pi/2)
      assert_close(
        Complex.pow(Complex.new(0, 1), Complex.new(0, 1)),
        {:math.exp(-:math.pi() / 2), 0}
      )

      assert Complex.pow(Complex.new(0, 0), 2) == Complex.new(0, 0)
      assert Complex.pow(Complex.new(0, 0), Complex.new(0, 1)) == Complex.new(:nan, :nan)
      assert Complex.pow(Complex.new(:infinity, 0), 2) == Complex.new(:nan, :nan)
      assert_close(Complex.pow(-8, Complex.new(1 / 3)), Complex.cbrt(Complex.new(-8)))
    end
  end

  describe "trigonometric and hyperbolic functions" do
    @points [Complex.new(0.3, 0.7), Complex.new(-1.2, 0.4), Complex.new(2.0, -1.5)]

    test "identities hold for complex arguments" do
      for z <- @points do
        one = Complex.add(Complex.square(Complex.sin(z)), Complex.square(Complex.cos(z)))
        assert_close(one, {1, 0})
        assert_close(Complex.tan(z), Complex.divide(Complex.sin(z), Complex.cos(z)))
        assert_close(Complex.cot(z), Complex.divide(1, Complex.tan(z)))
        assert_close(Complex.sec(z), Complex.divide(1, Complex.cos(z)))
        assert_close(Complex.csc(z), Complex.divide(1, Complex.sin(z)))

        one = Complex.subtract(Complex.square(Complex.cosh(z)), Complex.square(Complex.sinh(z)))
        assert_close(one, {1, 0})
        assert_close(Complex.tanh(z), Complex.divide(Complex.sinh(z), Complex.cosh(z)))
        assert_close(Complex.coth(z), Complex.divide(1, Complex.tanh(z)))
        assert_close(Complex.sech(z), Complex.divide(1, Complex.cosh(z)))
        assert_close(Complex.csch(z), Complex.divide(1, Complex.sinh(z)))
      end
    end

    test "inverse functions undo their functions" do
      pairs = [
        {&Complex.sin/1, &Complex.asin/1},
        {&Complex.cos/1, &Complex.acos/1},
        {&Complex.tan/1, &Complex.atan/1},
        {&Complex.cot/1, &Complex.acot/1},
        {&Complex.sec/1, &Complex.asec/1},
        {&Complex.csc/1, &Complex.acsc/1},
        {&Complex.sinh/1, &Complex.asinh/1},
        {&Complex.cosh/1, &Complex.acosh/1},
        {&Complex.tanh/1, &Complex.atanh/1},
        {&Complex.coth/1, &Complex.acoth/1},
        {&Complex.sech/1, &Complex.asech/1},
        {&Complex.csch/1, &Complex.acsch/1}
      ]

      for {fun, inverse} <- pairs, z <- @points do
        assert_close(fun.(inverse.(z)), z)
      end
    end

    test "real and complex versions agree on reals inside the real domain" do
      funs =
        ~w(sin cos tan cot sec csc asin acos atan sinh cosh tanh asinh atanh exp log log2 log10 sqrt cbrt)a

      for fun <- funs, x <- [0.25, 0.5, 0.9] do
        real = apply(Complex, fun, [x])
        complex = apply(Complex, fun, [Complex.new(x)])
        assert_close(complex, {real, 0})
      end

      for fun <- ~w(acot asec acsc acosh acoth asech acsch)a, x <- [1.5, 2.0, 3.0] do
        x = if fun == :asech, do: 1 / x, else: x
        assert_close(apply(Complex, fun, [Complex.new(x)]), {apply(Complex, fun, [x]), 0})
      end
    end

    test "large arguments saturate instead of overflowing" do
      assert Complex.sinh(1000) == :infinity
      assert Complex.sinh(-1000) == :neg_infinity
      assert Complex.sin(Complex.new(0, 1000)) == Complex.new(0, :infinity)
      assert Complex.cos(Complex.new(0, 1000)) == Complex.new(:infinity, 0)
      assert Complex.tan(Complex.new(0.5, -1000)) == Complex.new(0, -1)
      assert Complex.tanh(Complex.new(1000, 0.5)) == Complex.new(1, 0)
      assert Complex.cosh(Complex.new(:infinity, 0)) == Complex.new(:infinity, 0)
    end

    test "real domain errors give NaN" do
      for {fun, x} <- [asin: 1.5, acos: -2, acosh: 0, atanh: 2, asec: 0.5, acsc: 0.1, acoth: 0.5] do
        assert apply(Complex, fun, [x]) == :nan, "#{fun}(#{x})"
      end

      for fun <- ~w(sin cos tan asin acos)a do
        assert apply(Complex, fun, [:infinity]) == :nan
      end
    end

    test "inverse functions of non-finite complex numbers give NaN" do
      for fun <- ~w(asin acos atan acot asec acsc asinh acosh atanh acoth asech acsch)a do
        assert apply(Complex, fun, [Complex.new(:infinity, 1)]) == Complex.new(:nan, :nan)
      end
    end
  end

  describe "error functions" do
    test "erf_inv/1 inverts erf/1 to double precision" do
      for y <- [-0.999999, -0.7, -0.1, 1.0e-10, 0.3, 0.5, 0.9, 0.99999, 0.9999999999] do
        x = Complex.erf_inv(y)
        assert_in_delta Complex.erf(x), y, 1.0e-15
      end

      # Close to 1 the residual is computed with erfc, keeping its relative precision.
      y = 0.9999999999
      x = Complex.erf_inv(y)
      assert_in_delta Complex.erfc(x) / (1 - y), 1.0, 1.0e-12
    end

    test "erf_inv/1 outside its domain" do
      assert Complex.erf_inv(1.5) == :nan
      assert Complex.erf_inv(:infinity) == :nan
      assert Complex.erf_inv(1.0) == :infinity
    end

    test "erf/1 and erfc/1 add up to one" do
      for x <- [-3, -0.5, 0, 0.5, 3] do
        assert_in_delta Complex.erf(x) + Complex.erfc(x), 1.0, 1.0e-15
      end

      assert Complex.erf(:infinity) == 1.0
      assert Complex.erfc(:infinity) == 0.0
      assert Complex.erfc(Complex.new(0)) == Complex.new(1)
    end
  end
end
