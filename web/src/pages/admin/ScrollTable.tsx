import { Table } from "@mantine/core";
import type { ReactNode } from "react";

/** A wide table that scrolls sideways on a phone; the scrolling region takes keyboard focus
 * so it can be scrolled without a pointer. */
export function ScrollTable({
  minWidth,
  label,
  children,
}: {
  minWidth: number;
  label: string;
  children: ReactNode;
}) {
  return (
    <Table.ScrollContainer
      type="native"
      minWidth={minWidth}
      tabIndex={0}
      role="region"
      aria-label={label}
    >
      {children}
    </Table.ScrollContainer>
  );
}
