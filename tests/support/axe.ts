/** The window's accessibility check: axe-core's WCAG 2.1 A and AA rules, contrast included. */
import { expect, type Page } from '@playwright/test';
import { AxeBuilder } from '@axe-core/playwright';

/** Fails with each serious or critical violation on the page as it is now; `where` names the view. */
export async function expectNoSeriousViolations(page: Page, where: string): Promise<void> {
  const result = await new AxeBuilder({ page }).withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']).analyze();
  const serious = result.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  expect(
    serious.map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`),
    `${where}: ${result.passes.length} rules passed`,
  ).toEqual([]);
}
