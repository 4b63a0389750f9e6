# `make demo`: trains a small MLP written with defn and value_and_grad on scikit-learn's
# "digits" data set (1,797 labelled 8x8 images), then shows one test digit as a heatmap.

defmodule Demo.MLP do
  import Nx.Defn

  defn predict({w1, b1, w2, b2}, x) do
    x
    |> Nx.dot(w1)
    |> Nx.add(b1)
    |> Nx.max(0)
    |> Nx.dot(w2)
    |> Nx.add(b2)
  end

  defn loss(params, x, labels) do
    logits = predict(params, x)
    log_probs = logits - Nx.logsumexp(logits, axes: [1], keep_axes: true)
    one_hot = Nx.equal(Nx.new_axis(labels, 1), Nx.iota({1, 10}))
    -Nx.mean(Nx.sum(log_probs * one_hot, axes: [1]))
  end

  defn step({w1, b1, w2, b2} = params, x, labels, lr) do
    {loss, {g1, gb1, g2, gb2}} = value_and_grad(params, &loss(&1, x, labels))
    {{w1 - lr * g1, b1 - lr * gb1, w2 - lr * g2, b2 - lr * gb2}, loss}
  end

  defn accuracy(params, x, labels) do
    Nx.mean(Nx.equal(Nx.argmax(predict(params, x), axis: 1), labels))
  end
end

defmodule Demo do
  @seed 42
  @hidden 64
  @batch 32
  @epochs 25
  @lr 0.1

  def run do
    path = System.cmd("bash", ["scripts/ensure_digits.sh"]) |> elem(0) |> String.trim()
    {images, labels} = load(path)
    {train, test} = split(images, labels)

    compiler =
      if Code.ensure_loaded?(Nx.Torch) and function_exported?(Nx.Torch, :__jit__, 5),
        do: Nx.Torch,
        else: Nx.Defn.Evaluator

    IO.puts(
      "digits: #{elem(train, 0).shape |> elem(0)} training and " <>
        "#{elem(test, 0).shape |> elem(0)} test images, compiler #{inspect(compiler)}"
    )

    step = Nx.Defn.jit(&Demo.MLP.step/4, compiler: compiler)
    accuracy = Nx.Defn.jit(&Demo.MLP.accuracy/3, compiler: compiler)
    params = init_params()

    params =
      Enum.reduce(1..@epochs, params, fn epoch, params ->
        epoch(epoch, params, train, step, accuracy)
      end)

    {test_x, test_y} = test
    acc = accuracy.(params, test_x, test_y) |> Nx.to_number()
    IO.puts("test accuracy: #{:erlang.float_to_binary(acc * 100, decimals: 1)}%")
    show_digit(params, test_x, test_y)
  end

  defp load(path) do
    rows =
      path
      |> File.read!()
      |> :zlib.gunzip()
      |> String.split("\n", trim: true)
      |> Enum.map(fn line -> line |> String.split(",") |> Enum.map(&String.to_integer/1) end)

    images = rows |> Enum.map(&Enum.take(&1, 64)) |> Nx.tensor(type: :f32) |> Nx.divide(16.0)
    labels = rows |> Enum.map(&List.last/1) |> Nx.tensor(type: :s64)
    {images, labels}
  end

  # A fixed-seed shuffle, then 80% for training and 20% for testing.
  defp split(images, labels) do
    n = Nx.axis_size(images, 0)
    :rand.seed(:exsss, {@seed, @seed, @seed})
    order = Enum.shuffle(0..(n - 1)) |> Nx.tensor()
    images = Nx.take(images, order)
    labels = Nx.take(labels, order)
    n_train = div(n * 4, 5)

    {{Nx.slice_along_axis(images, 0, n_train), Nx.slice_along_axis(labels, 0, n_train)},
     {Nx.slice_along_axis(images, n_train, n - n_train),
      Nx.slice_along_axis(labels, n_train, n - n_train)}}
  end

  defp init_params do
    :rand.seed(:exsss, {@seed, 1, 2})

    dense = fn rows, cols ->
      scale = :math.sqrt(2.0 / rows)

      for(_ <- 1..(rows * cols), do: :rand.normal() * scale)
      |> Nx.tensor()
      |> Nx.reshape({rows, cols})
    end

    {dense.(64, @hidden), Nx.broadcast(0.0, {@hidden}), dense.(@hidden, 10),
     Nx.broadcast(0.0, {10})}
  end

  defp epoch(epoch, params, {x, y}, step, accuracy) do
    n = Nx.axis_size(x, 0)
    batches = div(n, @batch)
    started = System.monotonic_time(:microsecond)

    {params, losses} =
      Enum.reduce(0..(batches - 1), {params, []}, fn i, {params, losses} ->
        xb = Nx.slice_along_axis(x, i * @batch, @batch)
        yb = Nx.slice_along_axis(y, i * @batch, @batch)
        {params, loss} = step.(params, xb, yb, @lr)
        if rem(i, 5) == 0, do: progress(epoch, i + 1, batches, started, nil)
        {params, [loss | losses]}
      end)

    mean_loss = losses |> Enum.map(&Nx.to_number/1) |> Enum.sum() |> Kernel./(length(losses))
    acc = accuracy.(params, x, y) |> Nx.to_number()
    progress(epoch, batches, batches, started, {mean_loss, acc})
    IO.write("\n")
    params
  end

  defp progress(epoch, done, total, started, stats) do
    width = 30
    filled = div(done * width, total)
    bar = String.duplicate("=", filled) <> String.duplicate(" ", width - filled)
    elapsed = max(System.monotonic_time(:microsecond) - started, 1) / 1_000_000
    rate = :erlang.float_to_binary(done / elapsed, decimals: 0)

    stats =
      case stats do
        nil ->
          ""

        {loss, acc} ->
          " loss #{:erlang.float_to_binary(loss, decimals: 4)}" <>
            " train accuracy #{:erlang.float_to_binary(acc * 100, decimals: 1)}%"
      end

    label = String.pad_leading(Integer.to_string(epoch), 2)
    IO.write("\repoch #{label}/#{@epochs} [#{bar}] #{rate} steps/s#{stats}")
  end

  defp show_digit(params, x, y) do
    index = 7
    image = x[index]
    predicted = Demo.MLP.predict(params, Nx.new_axis(image, 0)) |> Nx.argmax() |> Nx.to_number()
    IO.puts("\ntest digit ##{index}: predicted #{predicted}, true #{Nx.to_number(y[index])}")
    image |> Nx.reshape({8, 8}) |> Nx.to_heatmap() |> IO.inspect()
  end
end

Demo.run()
