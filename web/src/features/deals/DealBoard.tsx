// The deal pipeline: one column per stage, cards dragged between columns (pointer, touch
// or keyboard via dnd-kit, plus a "Move to" menu), totals per column from the server's
// aggregate endpoint. Columns page in 50 cards at a time and are virtualised, so a
// pipeline with thousands of open deals stays smooth.
import {
  DndContext,
  DragOverlay,
  KeyboardSensor,
  PointerSensor,
  TouchSensor,
  useDraggable,
  useDroppable,
  useSensor,
  useSensors,
  type DragEndEvent,
  type DragStartEvent,
  type KeyboardCoordinateGetter,
} from '@dnd-kit/core';
import { useInfiniteQuery, useQueryClient } from '@tanstack/react-query';
import { useVirtualizer } from '@tanstack/react-virtual';
import * as DropdownMenu from '@radix-ui/react-dropdown-menu';
import { useEffect, useRef, useState } from 'react';
import { Link } from 'react-router';
import { api, errorMessage } from '../../api/client';
import { useAggregate, useRecordsById } from '../../api/records';
import type { CrmRecord, Page, SelectOption } from '../../api/types';
import { useToast } from '../../components/toast';
import { Avatar, ErrorState, Skeleton } from '../../components/ui';
import { formatDate, formatMoney } from '../../lib/format';
import { useUserMap } from '../records/lookups';
import { addCard, moveTotals, removeCard, restore, snapshot, type Pages } from './boardCache';

const COLUMN_PAGE = 50;
const CARD_HEIGHT = 104;

type Filters = Record<string, string | undefined>;

/**
 * Keyboard moves (Space to pick up, arrows, Space to drop) jump a whole column at a
 * time, the way a user thinks about stages, instead of dnd-kit's default 25 px steps.
 */
const columnJump: KeyboardCoordinateGetter = (event, { currentCoordinates, context }) => {
  const lefts = [...context.droppableRects.values()].map((r) => r.left).sort((a, b) => a - b);
  const x = currentCoordinates.x;
  let next: number | undefined;
  if (event.code === 'ArrowRight') next = lefts.find((l) => l > x + 16);
  else if (event.code === 'ArrowLeft') next = [...lefts].reverse().find((l) => l < x - 16);
  else return undefined;
  event.preventDefault();
  return next === undefined ? currentCoordinates : { x: next + 8, y: currentCoordinates.y };
};

const columnKey = (stage: string, filters: Filters) => ['records', 'deals', 'board', stage, filters] as const;
const totalsKey = (filters: Filters) => ['records', 'deals', 'aggregate', { ...filters, group_by: 'stage' }] as const;

export function DealBoard({ stages, filters }: { stages: SelectOption[]; filters: Filters }) {
  const qc = useQueryClient();
  const toast = useToast();
  const totals = useAggregate('deals', { ...filters, group_by: 'stage' });
  const [dragging, setDragging] = useState<CrmRecord | null>(null);
  const sensors = useSensors(
    useSensor(PointerSensor, { activationConstraint: { distance: 6 } }),
    useSensor(TouchSensor, { activationConstraint: { delay: 200, tolerance: 8 } }),
    useSensor(KeyboardSensor, { coordinateGetter: columnJump }),
  );

  const probabilityOf = (stage: string) => stages.find((s) => s.value === stage)?.probability ?? 0;

  /** Move a card now, tell the server, and put it back if the server says no. */
  const move = async (deal: CrmRecord, to: string) => {
    const from = String(deal.stage);
    if (from === to) return;
    const keys = [columnKey(from, filters), columnKey(to, filters), totalsKey(filters)];
    await Promise.all(keys.map((k) => qc.cancelQueries({ queryKey: k })));
    const snap = snapshot(qc, keys);
    const moved = { ...deal, stage: to, probability: probabilityOf(to) };
    qc.setQueryData<Pages>(columnKey(from, filters), (d) => removeCard(d, deal.id));
    qc.setQueryData<Pages>(columnKey(to, filters), (d) => addCard(d, moved));
    qc.setQueryData(totalsKey(filters), (agg: Parameters<typeof moveTotals>[0]) =>
      moveTotals(agg, from, to, typeof deal.amount === 'number' ? deal.amount : 0, {
        from: Number(deal.probability ?? probabilityOf(from)),
        to: probabilityOf(to),
      }),
    );
    try {
      await api<CrmRecord>(`/api/v1/deals/${deal.id}`, {
        method: 'PATCH',
        body: { stage: to },
        headers: { 'If-Match': `"${deal.version}"` },
      });
      toast.show(`“${String(deal.title)}” moved to ${to}`);
    } catch (e) {
      restore(qc, snap);
      toast.show(`Could not move “${String(deal.title)}”: ${errorMessage(e)}`, 'error');
    } finally {
      void qc.invalidateQueries({ queryKey: ['records', 'deals'] });
    }
  };

  const onDragStart = (e: DragStartEvent) => setDragging((e.active.data.current?.deal as CrmRecord) ?? null);
  const onDragEnd = (e: DragEndEvent) => {
    setDragging(null);
    const deal = e.active.data.current?.deal as CrmRecord | undefined;
    const to = e.over?.id;
    if (deal && typeof to === 'string') void move(deal, to);
  };

  if (totals.isError) return <ErrorState error={totals.error} retry={() => totals.refetch()} />;

  return (
    <DndContext
      sensors={sensors}
      onDragStart={onDragStart}
      onDragEnd={onDragEnd}
      onDragCancel={() => setDragging(null)}
      accessibility={{
        announcements: {
          onDragStart: ({ active }) => `Picked up deal ${String((active.data.current?.deal as CrmRecord)?.title ?? '')}`,
          onDragOver: ({ over }) => (over ? `Over stage ${String(over.id)}` : 'Not over a stage'),
          onDragEnd: ({ over }) => (over ? `Dropped in ${String(over.id)}` : 'Dropped outside the board'),
          onDragCancel: () => 'Move cancelled',
        },
      }}
    >
      <div className={`board ${dragging ? 'board-dragging' : ''}`} role="list" aria-label="Pipeline stages">
        {stages.map((s) => {
          const g = totals.data?.groups?.find((x) => x.key === s.value);
          return (
            <StageColumn
              key={s.value}
              stage={s}
              stages={stages}
              filters={filters}
              count={g?.count ?? 0}
              amount={g?.sum.amount ?? 0}
              weighted={g?.weighted_amount ?? 0}
              totalsLoading={totals.isPending}
              onMove={move}
            />
          );
        })}
      </div>
      <DragOverlay>{dragging ? <CardBody deal={dragging} company={undefined} overlay /> : null}</DragOverlay>
    </DndContext>
  );
}

function StageColumn({
  stage,
  stages,
  filters,
  count,
  amount,
  weighted,
  totalsLoading,
  onMove,
}: {
  stage: SelectOption;
  stages: SelectOption[];
  filters: Filters;
  count: number;
  amount: number;
  weighted: number;
  totalsLoading: boolean;
  onMove: (deal: CrmRecord, to: string) => void;
}) {
  const { setNodeRef, isOver } = useDroppable({ id: stage.value });
  const cards = useInfiniteQuery({
    queryKey: columnKey(stage.value, filters),
    queryFn: ({ pageParam, signal }) =>
      api<Page>('/api/v1/deals', {
        query: { ...filters, stage: stage.value, sort: '-updated_at', limit: COLUMN_PAGE, cursor: pageParam },
        signal,
      }),
    initialPageParam: undefined as string | undefined,
    getNextPageParam: (last) => last.next_cursor ?? undefined,
  });
  const deals = cards.data?.pages.flatMap((p) => p.data) ?? [];
  const companies = useRecordsById('companies', deals.map((d) => d.company_id as string | null));
  const scrollRef = useRef<HTMLDivElement>(null);
  // eslint-disable-next-line react-hooks/incompatible-library -- the virtualizer is read during render by design
  const virtual = useVirtualizer({
    count: deals.length,
    getScrollElement: () => scrollRef.current,
    estimateSize: () => CARD_HEIGHT,
    overscan: 6,
  });
  const items = virtual.getVirtualItems();
  const last = items[items.length - 1];
  const { hasNextPage, isFetchingNextPage, fetchNextPage } = cards;
  useEffect(() => {
    if (last && last.index >= deals.length - 5 && hasNextPage && !isFetchingNextPage) void fetchNextPage();
  }, [last, deals.length, hasNextPage, isFetchingNextPage, fetchNextPage]);

  const label = stage.label;
  return (
    <section
      ref={setNodeRef}
      className={`stage ${isOver ? 'stage-over' : ''} ${stage.closed ? `stage-${stage.closed}` : ''}`}
      aria-label={`${label}: ${count} deals`}
      role="listitem"
      data-stage={stage.value}
    >
      <header className="stage-head">
        <div className="stage-title">
          <h2>{label}</h2>
          <span className="stage-count" data-testid="stage-count">
            {totalsLoading ? '…' : count}
          </span>
        </div>
        <div className="stage-sums small">
          <span title="Total value" data-testid="stage-total">
            {formatMoney(amount)}
          </span>
          <span className="muted" title="Weighted value (amount × probability)" data-testid="stage-weighted">
            {formatMoney(weighted)} weighted
          </span>
        </div>
      </header>
      <div className="stage-cards" ref={scrollRef}>
        {cards.isPending ? (
          <Skeleton lines={3} height={80} />
        ) : cards.isError ? (
          <ErrorState error={cards.error} retry={() => cards.refetch()} />
        ) : deals.length === 0 ? (
          <p className="stage-empty muted small">No deals</p>
        ) : (
          <div style={{ height: virtual.getTotalSize(), position: 'relative' }}>
            {items.map((v) => {
              const deal = deals[v.index];
              if (!deal) return null;
              return (
                <div
                  key={deal.id}
                  className="card-slot"
                  style={{ position: 'absolute', top: 0, left: 0, right: 0, transform: `translateY(${v.start}px)` }}
                >
                  <DealCard
                    deal={deal}
                    company={companies.get(String(deal.company_id))}
                    stages={stages}
                    onMove={onMove}
                  />
                </div>
              );
            })}
          </div>
        )}
      </div>
    </section>
  );
}

function DealCard({
  deal,
  company,
  stages,
  onMove,
}: {
  deal: CrmRecord;
  company: CrmRecord | undefined;
  stages: SelectOption[];
  onMove: (deal: CrmRecord, to: string) => void;
}) {
  const { attributes, listeners, setNodeRef, isDragging } = useDraggable({
    id: deal.id,
    data: { deal },
    attributes: { roleDescription: 'Draggable deal' },
  });
  return (
    <article
      ref={setNodeRef}
      className={`deal-card ${isDragging ? 'dragging' : ''}`}
      data-deal-id={deal.id}
      aria-label={`${String(deal.title)}, ${String(deal.stage)}`}
      {...attributes}
      {...listeners}
    >
      <CardBody deal={deal} company={company} />
      <DropdownMenu.Root>
        <DropdownMenu.Trigger
          className="card-menu"
          aria-label={`Move ${String(deal.title)} to another stage`}
          onPointerDown={(e) => e.stopPropagation()}
          onKeyDown={(e) => e.stopPropagation()}
        >
          ⋯
        </DropdownMenu.Trigger>
        <DropdownMenu.Portal>
          <DropdownMenu.Content className="menu" align="end">
            <div className="menu-label">Move to</div>
            {stages
              .filter((s) => s.value !== deal.stage)
              .map((s) => (
                <DropdownMenu.Item key={s.value} className="menu-item" onSelect={() => onMove(deal, s.value)}>
                  {s.label}
                </DropdownMenu.Item>
              ))}
          </DropdownMenu.Content>
        </DropdownMenu.Portal>
      </DropdownMenu.Root>
    </article>
  );
}

function CardBody({ deal, company, overlay }: { deal: CrmRecord; company: CrmRecord | undefined; overlay?: boolean }) {
  const users = useUserMap();
  const owner = users.get(String(deal.owner_id));
  const priority = String(deal.priority ?? '').toLowerCase();
  return (
    <div className={`card-body priority-${priority || 'none'} ${overlay ? 'card-overlay' : ''}`}>
      <Link
        to={`/deals/${deal.id}`}
        className="card-title"
        onPointerDown={(e) => e.stopPropagation()}
        draggable={false}
      >
        {String(deal.title)}
      </Link>
      <div className="card-company muted small">{company ? String(company.name) : ' '}</div>
      <div className="card-foot">
        <strong className="card-amount">
          {deal.amount === null ? '—' : formatMoney(deal.amount as number, String(deal.currency ?? 'USD'))}
        </strong>
        <span className="muted small">{deal.expected_close_date ? formatDate(String(deal.expected_close_date)) : ''}</span>
        {owner && (
          <span title={owner.name}>
            <Avatar name={owner.name} size={22} />
          </span>
        )}
      </div>
    </div>
  );
}
