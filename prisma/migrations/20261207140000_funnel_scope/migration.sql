-- A funnel is completed within one visit ('visit') or within its time limit ('window').
-- Funnels defined before this keep the behaviour they were defined with ('window', the column's
-- value as it is added); new funnels default to 'visit'.
CREATE TYPE "FunnelScope" AS ENUM ('visit', 'window');
ALTER TABLE "funnels" ADD COLUMN "scope" "FunnelScope" NOT NULL DEFAULT 'window';
ALTER TABLE "funnels" ALTER COLUMN "scope" SET DEFAULT 'visit';
