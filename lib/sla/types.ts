export interface SlaBreachView {
  id: string;
  startedAt: number;
  endedAt: number | null;
  cause: string;
  worstMs: number;
  targetMs: number;
}
