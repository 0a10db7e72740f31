import { launch, watchedContext, DEMO_ADMIN, signInWithPassword } from './harness.mjs';
const origin = 'http://127.0.0.1:8104';
const { browser, close } = await launch();
const w = await watchedContext(browser, origin);
const page = await w.context.newPage();
await signInWithPassword(page, origin, DEMO_ADMIN);
await page.setViewportSize({ width: 375, height: 812 });
for (const path of process.argv.slice(2)) {
  await page.goto(origin + path);
  await page.waitForTimeout(2500);
  const wide = await page.evaluate(() => [...document.querySelectorAll('body *')].filter((e) => e.getBoundingClientRect().right > 376).slice(0, 8).map((e) => `${e.tagName}.${e.className.toString().slice(0, 60)} ${Math.round(e.getBoundingClientRect().right)}`));
  console.log(path, wide);
}
console.log(w.problems());
await close();
