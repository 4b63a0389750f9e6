defmodule Nx.Application do
  @moduledoc false
  # Starts what Nx needs on every node: the :pg scope in which servings announce themselves,
  # so `Nx.Serving.batched_run({:distributed, name}, ...)` sees remote servings as soon as the
  # node connects (the scope is supervised here rather than started on first use).
  use Application

  @impl true
  def start(_type, _args) do
    children = [%{id: Nx.Serving.PG, start: {:pg, :start_link, [Nx.Serving.PG]}}]
    Supervisor.start_link(children, strategy: :one_for_one, name: Nx.Supervisor)
  end
end
