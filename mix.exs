defmodule Nx.MixProject do
  use Mix.Project

  @version "0.13.0"

  def project do
    [
      app: :nx,
      version: @version,
      elixir: "~> 1.14",
      start_permanent: Mix.env() == :prod,
      compilers: [:nx_torch_native] ++ Mix.compilers(),
      elixirc_paths: elixirc_paths(Mix.env()),
      deps: [],
      docs: [main: "Nx"]
    ]
  end

  def application do
    [extra_applications: [:logger], mod: {Nx.Application, []}]
  end

  defp elixirc_paths(:test), do: ["lib", "test/support"]
  defp elixirc_paths(_), do: ["lib"]
end

defmodule Mix.Tasks.Compile.NxTorchNative do
  @moduledoc """
  Builds the Rust NIF (`native/nx_torch_nif`) with cargo and installs it as
  `priv/libnx_torch_nif.so`.

  `scripts/env.sh` decides where LibTorch (a cache outside the repository,
  or `LIBTORCH=<dir>`) and cargo's target directory (in the same cache, one
  per checkout path) are. Set
  `NX_TORCH_SKIP_NATIVE=1` to skip this step (the NIF then reports that it
  is missing when first used).
  """
  use Mix.Task.Compiler

  @lib "libnx_torch_nif.so"

  @impl true
  def run(_args) do
    if System.get_env("NX_TORCH_SKIP_NATIVE") in ["1", "true"] do
      {:noop, []}
    else
      build()
    end
  end

  defp build do
    root = File.cwd!()
    %{"LIBTORCH" => libtorch, "CARGO_TARGET_DIR" => target} = paths(root)
    profile = if System.get_env("NX_TORCH_DEBUG") in ["1", "true"], do: "debug", else: "release"

    args =
      ["build", "-p", "nx_torch_nif"] ++ if(profile == "release", do: ["--release"], else: [])

    env = [{"LIBTORCH", libtorch}, {"CARGO_TARGET_DIR", target}]

    case System.cmd("cargo", args, env: env, cd: root, into: IO.stream(:stdio, :line)) do
      {_, 0} ->
        install(Path.join([target, profile, @lib]), Path.join([root, "priv", @lib]))

      {_, status} ->
        Mix.raise("cargo build of the Nx.Torch NIF failed (exit status #{status})")
    end
  end

  # scripts/env.sh is the one place that decides where LibTorch and the target directory are.
  defp paths(root) do
    script =
      ~s(source scripts/env.sh && printf "LIBTORCH=%s\\nCARGO_TARGET_DIR=%s\\n" "$LIBTORCH" "$CARGO_TARGET_DIR")

    case System.cmd("bash", ["-c", script], cd: root) do
      {output, 0} ->
        output
        |> String.split("\n", trim: true)
        |> Map.new(fn line -> line |> String.split("=", parts: 2) |> List.to_tuple() end)

      {_, status} ->
        Mix.raise("""
        could not find or fetch LibTorch (scripts/env.sh exited with #{status}).
        Run `make setup`, or point LIBTORCH=<dir> at a LibTorch 2.11.0 directory.
        """)
    end
  end

  # Installs by writing a temporary file and renaming it: a library that a running VM has
  # loaded must never be overwritten in place.
  defp install(built, dest) do
    File.mkdir_p!(Path.dirname(dest))

    if File.exists?(dest) and File.read!(dest) == File.read!(built) do
      {:noop, []}
    else
      tmp = dest <> ".tmp"
      File.cp!(built, tmp)
      File.rename!(tmp, dest)
      {:ok, []}
    end
  end
end
